// In-process hints between deliveries: a release names the queries that may run now, and a delivery of one of
// them waiting in this process tries again at once instead of at its next poll. Only a hint: deliveries in
// other processes find out by polling, and nothing is lost when a signal has no listener.

const listeners = new Map<string, Set<() => void>>();

function keyOf(tenantId: string, queryId: string): string {
  return `${tenantId}\n${queryId}`;
}

/** Resolves on the next signal for this query, or after `ms`, whichever comes first. */
export function waitForSignal(tenantId: string, queryId: string, ms: number): Promise<void> {
  const key = keyOf(tenantId, queryId);
  return new Promise((resolve) => {
    let set = listeners.get(key);
    if (!set) {
      set = new Set();
      listeners.set(key, set);
    }
    const done = () => {
      clearTimeout(timer);
      const current = listeners.get(key);
      current?.delete(done);
      if (current?.size === 0) listeners.delete(key);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}

/** Wakes every delivery of this query waiting in this process. */
export function signal(tenantId: string, queryId: string): void {
  const set = listeners.get(keyOf(tenantId, queryId));
  if (set) for (const wake of [...set]) wake();
}

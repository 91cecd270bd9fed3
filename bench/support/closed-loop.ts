// The closed-loop load the benches drive: a fixed number of clients, each sending its next call as soon as the
// previous one answers, for a fixed time. Throughput is then what the system sustains, not what was offered.

export interface LoopResult {
  /** Every call's latency in ms, sorted ascending. */
  latencies: number[];
  /** Wall time from the first call to the last answer. */
  seconds: number;
}

/** `clients` loops calling `call(client)` back to back for `seconds`. */
export async function closedLoop(
  clients: number,
  seconds: number,
  call: (client: number) => Promise<void>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await call(client);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

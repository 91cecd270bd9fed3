// Polling for what happens in another process or after a delivery: the tests wait for an observable result
// instead of sleeping a fixed time, and a timeout names what never came.

/** Polls `probe` until it returns something other than undefined, and returns that. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Polls until `check` holds. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs);
}

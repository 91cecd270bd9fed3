/** The longest wait between two attempts: one day. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/**
 * QStash's default wait before retry number `retry` (1 for the first retry): `min(1 day, e^(2.5·retry))` seconds,
 * which gives 12 s, 2 min 28 s, 30 min, …
 */
export function defaultBackoffMs(retry: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, Math.round(Math.exp(2.5 * retry) * 1000));
}

/**
 * Reads a destination's `Retry-After` (seconds, or an HTTP date) as milliseconds from `nowMs`.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.min(MAX_RETRY_DELAY_MS, Math.round(Number(text) * 1000));
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, at - nowMs));
}

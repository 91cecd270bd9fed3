// Latency statistics every bench reports the same way, so figures from different benches compare.

/** A sorted copy, ascending; the input is left as it was. */
export function sortAscending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Nearest-rank percentile (`p` in 0..100) of values already sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** `percentile` of values in any order. */
export function percentileOf(values: readonly number[], p: number): number {
  return percentile(sortAscending(values), p);
}

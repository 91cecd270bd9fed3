// Latency histograms as Redis hash fields: one counter per bucket, so recording is one HINCRBY and any
// window's percentiles come from summing the buckets of its minutes.

/** Upper bounds (ms) of the buckets; a last, open bucket holds everything slower. */
export const LATENCY_BOUNDS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000,
];

/** Index of the bucket a duration falls in (LATENCY_BOUNDS_MS.length for the open one). */
export function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= (LATENCY_BOUNDS_MS[i] as number)) return i;
  return LATENCY_BOUNDS_MS.length;
}

export interface Percentiles {
  count: number;
  /** Upper bound (ms) of the bucket each percentile falls in; null without samples. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Percentiles of bucket counts (index → count); the open bucket reports the last bound. */
export function percentilesOf(counts: ReadonlyMap<number, number>): Percentiles {
  let count = 0;
  for (const value of counts.values()) count += value;
  const at = (p: number): number | null => {
    if (count === 0) return null;
    const rank = Math.ceil(p * count);
    let seen = 0;
    for (let i = 0; i <= LATENCY_BOUNDS_MS.length; i++) {
      seen += counts.get(i) ?? 0;
      if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)] as number;
    }
    return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] as number;
  };
  return { count, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

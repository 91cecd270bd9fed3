// The metrics answers computed the slow, obvious way from every raw point, to check the warehouse's
// aggregation against.
import { COUNTERS, type CounterName } from "../../src/domain/influencers/ids.ts";
import type { RawPoint } from "../../src/domain/influencers/series.ts";

export function referenceBuckets(points: readonly RawPoint[], start: number, end: number, width: number) {
  const lastBefore = (name: CounterName, before: number, after: number): number | undefined => {
    let found: RawPoint | undefined;
    for (const p of points) {
      if (p.ts >= after && p.ts < before && p[name] !== null && (!found || p.ts > found.ts)) found = p;
    }
    return found?.[name] ?? undefined;
  };
  const buckets = [];
  for (let b = start; b < end; b += width) {
    const inside = points.filter((p) => p.ts >= b && p.ts < b + width);
    const bucket: Record<string, unknown> = { start: new Date(b).toISOString(), points: inside.length };
    for (const name of COUNTERS) {
      const values = inside.filter((p) => p[name] !== null).sort((x, y) => x.ts - y.ts);
      if (values.length === 0) {
        bucket[name] = { last: null, min: null, max: null, change: null };
        continue;
      }
      const numbers = values.map((p) => p[name] as number);
      const last = numbers[numbers.length - 1] as number;
      // The value to measure change from: the latest one before this bucket, no earlier than one bucket
      // before the range.
      const earlier = lastBefore(name, b, start - width);
      bucket[name] = {
        last,
        min: Math.min(...numbers),
        max: Math.max(...numbers),
        change: earlier === undefined ? null : last - earlier,
      };
    }
    const last = (name: CounterName) => (bucket[name] as { last: number | null }).last;
    const [likes, comments, posts, followers] = [
      last("likes"),
      last("comments"),
      last("posts"),
      last("followers"),
    ];
    bucket.engagementRate =
      likes === null || comments === null || !posts || !followers
        ? null
        : (likes + comments) / posts / followers;
    buckets.push(bucket);
  }
  return buckets;
}

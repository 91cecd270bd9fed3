// The metrics answer: raw points, or buckets with last / min / max / change per counter and an engagement rate.
//
// Definitions (also in docs/architecture.md, "Influencer metrics"):
// - A bucket covers [start, start + width), UTC-aligned; every bucket in the range is listed, an empty one with
//   `points: 0` and nulls.
// - last: the value of the bucket's latest point; min / max over the bucket's points.
// - change: this bucket's last minus the last of the nearest earlier non-empty bucket, looking back through
//   the answer and one bucket before it; null when there is none. So the changes of a series add up to
//   "last value minus the value just before the range".
// - engagementRate: (likes + comments) / posts / followers from the bucket's (or point's) last values: the
//   average interactions per post as a share of the audience. null when posts or followers is 0 or missing.
import { COUNTERS, type CounterName, type Counters } from "./ids.ts";
import type { Resolution } from "./messages.ts";
import { BUCKET_MS } from "./time-range.ts";

export interface CounterStats {
  last: number;
  min: number;
  max: number;
}

/** One bucket as the warehouse aggregates it: counters absent (null) when no point in it reported them. */
export interface BucketAggregate {
  /** Bucket start, epoch ms. */
  start: number;
  points: number;
  counters: Record<CounterName, CounterStats | null>;
}

export interface CounterSummary {
  last: number | null;
  min: number | null;
  max: number | null;
  change: number | null;
}

export interface SeriesBucket {
  start: string;
  points: number;
  followers: CounterSummary;
  following: CounterSummary;
  posts: CounterSummary;
  likes: CounterSummary;
  comments: CounterSummary;
  views: CounterSummary;
  engagementRate: number | null;
}

export interface RawPoint extends Counters {
  /** Epoch ms. */
  ts: number;
}

export interface SeriesPoint extends Counters {
  ts: string;
  engagementRate: number | null;
}

export interface SeriesHeader {
  influencerId: string;
  resolution: Resolution;
  start: string;
  end: string;
}

export type MetricsSeries =
  | (SeriesHeader & { resolution: "raw"; points: SeriesPoint[] })
  | (SeriesHeader & { bucketSeconds: number; buckets: SeriesBucket[] });

/** (likes + comments) / posts / followers, or null when it cannot be computed. */
export function engagementRate(
  values: Pick<Counters, "likes" | "comments" | "posts" | "followers">,
): number | null {
  const { likes, comments, posts, followers } = values;
  if (likes === null || comments === null || !posts || !followers) return null;
  return (likes + comments) / posts / followers;
}

/** Raw points in [start, end) as the answer lists them (expects them ordered by ts). */
export function rawSeries(
  influencerId: string,
  start: number,
  end: number,
  points: RawPoint[],
): MetricsSeries {
  return {
    influencerId,
    resolution: "raw",
    start: iso(start),
    end: iso(end),
    points: points.map(({ ts, ...counters }) => ({
      ts: iso(ts),
      ...counters,
      engagementRate: engagementRate(counters),
    })),
  };
}

/**
 * Buckets for [start, end) (both aligned to the resolution) from the warehouse's aggregates, which may include
 * the bucket just before `start` (used for the first change only) and leave out empty buckets.
 */
export function bucketSeries(
  influencerId: string,
  range: { start: number; end: number; resolution: Exclude<Resolution, "raw"> },
  aggregates: BucketAggregate[],
): MetricsSeries {
  const width = BUCKET_MS[range.resolution];
  const byStart = new Map(aggregates.map((a) => [a.start, a]));
  // The latest value seen so far, per counter: where each change is measured from.
  const previous = new Map<CounterName, number>();
  const before = byStart.get(range.start - width);
  for (const name of COUNTERS) {
    const stats = before?.counters[name];
    if (stats) previous.set(name, stats.last);
  }
  const buckets: SeriesBucket[] = [];
  for (let start = range.start; start < range.end; start += width) {
    const aggregate = byStart.get(start);
    const summaries = {} as Record<CounterName, CounterSummary>;
    for (const name of COUNTERS) {
      const stats = aggregate?.counters[name] ?? null;
      if (stats === null) {
        summaries[name] = { last: null, min: null, max: null, change: null };
        continue;
      }
      const earlier = previous.get(name);
      summaries[name] = { ...stats, change: earlier === undefined ? null : stats.last - earlier };
      previous.set(name, stats.last);
    }
    buckets.push({
      start: iso(start),
      points: aggregate?.points ?? 0,
      ...summaries,
      engagementRate: engagementRate({
        likes: summaries.likes.last,
        comments: summaries.comments.last,
        posts: summaries.posts.last,
        followers: summaries.followers.last,
      }),
    });
  }
  return {
    influencerId,
    resolution: range.resolution,
    start: iso(range.start),
    end: iso(range.end),
    bucketSeconds: width / 1000,
    buckets,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

import { describe, expect, test } from "bun:test";
import type { CounterName } from "../../../src/domain/influencers/ids.ts";
import {
  type BucketAggregate,
  bucketSeries,
  engagementRate,
  rawSeries,
} from "../../../src/domain/influencers/series.ts";

const M = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function aggregate(start: number, followers: [number, number, number], points = 3): BucketAggregate {
  const counters = {} as BucketAggregate["counters"];
  for (const name of ["followers", "following", "posts", "likes", "comments", "views"] as CounterName[]) {
    counters[name] =
      name === "followers" ? { last: followers[0], min: followers[1], max: followers[2] } : null;
  }
  counters.posts = { last: 10, min: 10, max: 10 };
  counters.likes = { last: 400, min: 400, max: 400 };
  counters.comments = { last: 100, min: 100, max: 100 };
  return { start, points, counters };
}

describe("bucketSeries", () => {
  test("lists every bucket, empty ones explicit, and measures change from the nearest earlier non-empty bucket", () => {
    const series = bucketSeries("i1", { start: T0, end: T0 + 4 * M, resolution: "1m" }, [
      aggregate(T0 - M, [90, 80, 95]), // the bucket before the range: only used for the first change
      aggregate(T0, [100, 90, 110]),
      aggregate(T0 + 2 * M, [130, 120, 140]),
    ]);
    if (!("buckets" in series)) throw new Error("expected buckets");
    expect(series.bucketSeconds).toBe(60);
    expect(series.buckets.map((b) => b.start)).toEqual(
      [0, 1, 2, 3].map((i) => new Date(T0 + i * M).toISOString()),
    );
    expect(series.buckets.map((b) => b.points)).toEqual([3, 0, 3, 0]);
    expect(series.buckets[0]?.followers).toEqual({ last: 100, min: 90, max: 110, change: 10 });
    expect(series.buckets[1]?.followers).toEqual({ last: null, min: null, max: null, change: null });
    expect(series.buckets[2]?.followers).toEqual({ last: 130, min: 120, max: 140, change: 30 });
    expect(series.buckets[1]?.engagementRate).toBeNull();
    expect(series.buckets[0]?.engagementRate).toBeCloseTo(500 / 10 / 100, 12);
    expect(series.buckets[0]?.views).toEqual({ last: null, min: null, max: null, change: null });
  });

  test("without an earlier bucket the first change is null", () => {
    const series = bucketSeries("i1", { start: T0, end: T0 + M, resolution: "1m" }, [
      aggregate(T0, [100, 90, 110]),
    ]);
    if (!("buckets" in series)) throw new Error("expected buckets");
    expect(series.buckets[0]?.followers.change).toBeNull();
  });
});

test("rawSeries lists points with their engagement rate", () => {
  const counters = { followers: 1000, following: 5, posts: 4, likes: 100, comments: 20, views: null };
  const series = rawSeries("i1", T0, T0 + M, [{ ts: T0 + 1000, ...counters }]);
  expect(series).toEqual({
    influencerId: "i1",
    resolution: "raw",
    start: new Date(T0).toISOString(),
    end: new Date(T0 + M).toISOString(),
    points: [{ ts: new Date(T0 + 1000).toISOString(), ...counters, engagementRate: 120 / 4 / 1000 }],
  });
});

test("engagementRate is null when it would divide by zero or miss a value", () => {
  expect(engagementRate({ likes: 1, comments: 1, posts: 0, followers: 10 })).toBeNull();
  expect(engagementRate({ likes: 1, comments: 1, posts: 1, followers: 0 })).toBeNull();
  expect(engagementRate({ likes: null, comments: 1, posts: 1, followers: 10 })).toBeNull();
  expect(engagementRate({ likes: 3, comments: 1, posts: 2, followers: 10 })).toBe(0.2);
});

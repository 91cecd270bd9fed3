// The metrics read actor on real Postgres: every resolution over many ranges equals a brute-force computation
// from the raw points; another tenant's id finds nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { influencerMetricsActor } from "../../actors/influencer-metrics.ts";
import type { RawPoint } from "../../src/domain/influencers/series.ts";
import { BUCKET_MS, RANGE_LIMIT_MS } from "../../src/domain/influencers/time-range.ts";
import { mulberry32 } from "../../src/domain/seeded-random.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { InfluencerPartitions, writeInfluencerBatch } from "../../src/warehouse/influencers.ts";
import { deliver, readJson, startTestHost, type TestHost } from "../actors/support.ts";
import { referenceBuckets } from "./reference.ts";
import { DATABASE_URL } from "./support.ts";

const run = crypto.randomUUID().slice(0, 8);
const TENANT = `met-${run}`;
const OTHER = `met-other-${run}`;
const T0 = Date.UTC(2026, 2, 1, 0, 0, 0);
const DAYS = 4;

let warehouse: Warehouse;
let host: TestHost;
const points: RawPoint[] = [];

beforeAll(async () => {
  warehouse = openWarehouse(DATABASE_URL, { max: 2 });
  host = startTestHost({ actors: [influencerMetricsActor] });
  // About one point a minute for four days, at irregular moments, with gaps and some counters missing.
  const random = mulberry32(42);
  let followers = 50_000;
  let posts = 300;
  for (let ts = T0 + 1234; ts < T0 + DAYS * 86_400_000; ts += Math.floor(20_000 + random() * 80_000)) {
    if (random() < 0.1) ts += Math.floor(random() * 3_600_000); // an outage: whole empty buckets
    followers += Math.floor(random() * 41) - 15;
    if (random() < 0.01) posts++;
    const likes = posts * 900 + Math.floor(random() * 500);
    points.push({
      ts,
      followers: random() < 0.03 ? null : followers,
      following: 321,
      posts,
      likes,
      comments: random() < 0.05 ? null : Math.floor(likes / 20),
      views: likes * 7,
    });
  }
  await new InfluencerPartitions().ensureFor(warehouse.db, points);
  const rows = points.map(({ ts, ...counters }) => ({ tenantId: TENANT, influencerId: "m1", ts, counters }));
  for (let i = 0; i < rows.length; i += 1000)
    await writeInfluencerBatch(warehouse.sql, rows.slice(i, i + 1000), []);
});

afterAll(async () => {
  await warehouse.sql`delete from influencer_metrics where tenant_id = ${TENANT}`;
  await host.close();
  await warehouse.close();
});

async function read(body: Record<string, unknown>) {
  const response = await deliver(host, "influencer-metrics", { body: JSON.stringify(body) });
  return { status: response.status, body: await readJson(response) };
}

describe("influencer-metrics actor", () => {
  test("raw: exactly the points in [start, end), each with its engagement rate", async () => {
    const start = T0 + 3 * 3_600_000 + 17;
    const end = start + 6 * 3_600_000;
    const { status, body } = await read({
      tenantId: TENANT,
      influencerId: "m1",
      start,
      end,
      resolution: "raw",
    });
    expect(status).toBe(200);
    const expected = points.filter((p) => p.ts >= start && p.ts < end);
    expect(body.points).toHaveLength(expected.length);
    expect(body.points.map((p: { ts: string }) => Date.parse(p.ts))).toEqual(expected.map((p) => p.ts));
    expect(body.points[0]).toMatchObject({
      ...expected[0],
      ts: new Date(expected[0]?.ts as number).toISOString(),
    });
  });

  test("1m, 1h and 1d over random aligned ranges equal the brute force, empty buckets included", async () => {
    const random = mulberry32(7);
    for (const resolution of ["1m", "1h", "1d"] as const) {
      const width = BUCKET_MS[resolution];
      for (let i = 0; i < 6; i++) {
        const span = Math.min(RANGE_LIMIT_MS[resolution], DAYS * 86_400_000 + 2 * width);
        const buckets = 1 + Math.floor(random() * Math.min(span / width, resolution === "1m" ? 600 : 200));
        const start = Math.floor((T0 - width + random() * DAYS * 86_400_000) / width) * width;
        const end = start + buckets * width;
        const { status, body } = await read({ tenantId: TENANT, influencerId: "m1", start, end, resolution });
        expect(status).toBe(200);
        expect(body.bucketSeconds).toBe(width / 1000);
        const expected = referenceBuckets(points, start, end, width);
        expect(body.buckets).toHaveLength(expected.length);
        for (const [k, bucket] of body.buckets.entries()) {
          const { engagementRate, ...rest } = bucket;
          const { engagementRate: expectedRate, ...expectedRest } = expected[k] as Record<string, unknown>;
          expect(rest).toEqual(expectedRest);
          if (expectedRate === null) expect(engagementRate).toBeNull();
          else expect(engagementRate).toBeCloseTo(expectedRate as number, 12);
        }
      }
    }
  });

  test("another tenant asking for the same influencer id finds nothing", async () => {
    const { body } = await read({
      tenantId: OTHER,
      influencerId: "m1",
      start: T0,
      end: T0 + 86_400_000,
      resolution: "1h",
    });
    expect(body.buckets).toHaveLength(24);
    expect(body.buckets.every((b: { points: number }) => b.points === 0)).toBe(true);
  });

  test("refuses a range over its resolution's limit or unaligned buckets, naming the problem (489)", async () => {
    const tooLong = await read({
      tenantId: TENANT,
      influencerId: "m1",
      start: T0,
      end: T0 + 2 * 86_400_000,
      resolution: "raw",
    });
    expect(tooLong.status).toBe(489);
    const unaligned = await read({
      tenantId: TENANT,
      influencerId: "m1",
      start: T0 + 1,
      end: T0 + 3_600_000,
      resolution: "1m",
    });
    expect(unaligned.status).toBe(489);
    const inverted = await read({
      tenantId: TENANT,
      influencerId: "m1",
      start: T0 + 1,
      end: T0,
      resolution: "raw",
    });
    expect(inverted.status).toBe(489);
    expect(inverted.body.field).toBe("start");
  });
});

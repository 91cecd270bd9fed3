// /v1/influencers through the real edge app, broker (real time), actors host (collector and metrics read) and
// Mockstagram: registration and its validation, listing, stopping, metrics and their 400s, tenant isolation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCollectorActor } from "../../../actors/collector.ts";
import { influencerMetricsActor } from "../../../actors/influencer-metrics.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import type { RawPoint } from "../../../src/domain/influencers/series.ts";
import { createApp } from "../../../src/edge/app.ts";
import { readEdgeConfig } from "../../../src/edge/env.ts";
import { type Mockstagram, startMockstagram } from "../../../src/local/mockstagram/server.ts";
import { InfluencerPartitions, writeInfluencerBatch } from "../../../src/warehouse/influencers.ts";
import { SIGNING } from "../../actors/support.ts";
import { referenceBuckets } from "../../influencers/reference.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";

let h: EdgeHarness;
let mock: Mockstagram;
let app: ReturnType<typeof createApp>;
let alice: { id: string; apiKey: string };
let bob: { id: string; apiKey: string };
const run = crypto.randomUUID().slice(0, 8);
const stream = `test:influencer-points:edge-${run}`;

beforeAll(async () => {
  mock = startMockstagram({ port: 0 });
  const collector = createCollectorActor({
    providerUrl: mock.url,
    fetchTimeoutMs: 500,
    fetchAttempts: 2,
    stream: { key: stream, maxLength: 10_000 },
    tickPrecisionMs: 1,
  });
  h = await startHarness({ actors: [tenantSyncActor, collector, influencerMetricsActor], timeScale: 1 });
  // The dev stack's settings: 1 s minimum interval, millisecond tick placement, reads signed with the key.
  app = createApp({
    ...h.services,
    actorSigningKey: SIGNING.current,
    influencers: { minIntervalSeconds: 1, tickPrecisionMs: 1 },
  });
  alice = await h.createTenant();
  bob = await h.createTenant();
  await waitFor("the tenants in Postgres", async () => {
    const rows = await h.host.warehouse.sql`select id from tenants where id in (${alice.id}, ${bob.id})`;
    return rows.length === 2 ? true : undefined;
  });
});

afterAll(async () => {
  await h.host.warehouse.sql`delete from influencer_metrics where tenant_id in (${alice.id}, ${bob.id})`;
  await h.redis.del(stream);
  await h.stop();
  await mock.stop();
});

function call(path: string, key: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return Promise.resolve(app.request(path, { ...init, headers }));
}

const track = (key: string, body: unknown) =>
  call("/v1/influencers", key, { method: "POST", body: JSON.stringify(body) });

describe("POST /v1/influencers", () => {
  test("registers ids (201), starts collecting at the interval, and is idempotent (200)", async () => {
    const first = await track(alice.apiKey, { ids: ["1000001", "1000002"], intervalSeconds: 1 });
    expect(first.status).toBe(201);
    const body = await json(first);
    expect(body.intervalSeconds).toBe(1);
    expect(body.influencers.map((i: { id: string; result: string }) => [i.id, i.result])).toEqual([
      ["1000001", "created"],
      ["1000002", "created"],
    ]);
    const again = await track(alice.apiKey, { ids: ["1000001"], intervalSeconds: 1 });
    expect(again.status).toBe(200);
    expect((await json(again)).influencers[0].result).toBe("unchanged");

    const seen = await waitFor("two collections", async () => {
      const view = await json(await call("/v1/influencers/1000001", alice.apiKey));
      return view.points >= 2 ? view : undefined;
    });
    expect(seen).toMatchObject({ id: "1000001", status: "active", intervalSeconds: 1, lastError: null });
    expect(Date.now() - Date.parse(seen.lastSeenAt)).toBeLessThan(2000);
  });

  test("a missing interval means the default (60 s); intervals below the minimum are refused", async () => {
    const response = await track(alice.apiKey, { ids: ["slow"] });
    expect(response.status).toBe(201);
    expect((await json(response)).intervalSeconds).toBe(60);
    const production = createApp({ ...h.services }); // default settings: 60 s minimum
    const refused = await production.request("/v1/influencers", {
      method: "POST",
      headers: { authorization: `Bearer ${alice.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ ids: ["x"], intervalSeconds: 1 }),
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.fields).toEqual([
      { field: "intervalSeconds", message: "must be an integer from 60 to 86400" },
    ]);
  });

  test("bad bodies are 400s naming the field", async () => {
    const cases: [unknown, string][] = [
      [{}, "ids"],
      [{ ids: [] }, "ids"],
      [{ ids: ["ok", "a b"] }, "ids.1"],
      [{ ids: ["a", "a"] }, "ids"],
      [{ ids: ["a"], intervalSeconds: 0 }, "intervalSeconds"],
      [{ ids: ["a"], intervalSeconds: 1.5 }, "intervalSeconds"],
      [{ ids: ["a"], extra: 1 }, "extra"],
      [{ ids: Array.from({ length: 501 }, (_, i) => `i${i}`) }, "ids"],
    ];
    for (const [body, field] of cases) {
      const response = await track(alice.apiKey, body);
      expect(response.status).toBe(400);
      expect((await json(response)).error.fields[0].field).toBe(field);
    }
    const notJson = await call("/v1/influencers", alice.apiKey, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect((await call("/v1/influencers", "fw_nobody_x", { method: "POST", body: "{}" })).status).toBe(401);
  });
});

describe("GET and DELETE", () => {
  test("lists the tenant's influencers in registration order, with paging; DELETE stops collection", async () => {
    await track(alice.apiKey, { ids: ["list-a", "list-b"], intervalSeconds: 1 });
    const page = await json(await call("/v1/influencers?limit=2&offset=0", alice.apiKey));
    expect(page.total).toBeGreaterThanOrEqual(5);
    expect(page.influencers.map((i: { id: string }) => i.id)).toEqual(["1000001", "1000002"]);
    const all = await json(await call("/v1/influencers", alice.apiKey));
    expect(all.influencers.map((i: { id: string }) => i.id)).toEqual(
      expect.arrayContaining(["list-a", "list-b", "slow"]),
    );
    expect((await call("/v1/influencers?limit=0", alice.apiKey)).status).toBe(400);

    const stopped = await call("/v1/influencers/list-a", alice.apiKey, { method: "DELETE" });
    expect(stopped.status).toBe(200);
    expect(await json(stopped)).toEqual({ id: "list-a", status: "stopped" });
    const view = await json(await call("/v1/influencers/list-a", alice.apiKey));
    expect(view).toMatchObject({ status: "stopped", nextTickAt: null });
    expect((await call("/v1/influencers/never", alice.apiKey, { method: "DELETE" })).status).toBe(404);
    expect((await call("/v1/influencers/a%20b", alice.apiKey)).status).toBe(400);
  });

  test("another tenant's influencer is a 404 everywhere, and not in its list", async () => {
    for (const [method, path] of [
      ["GET", "/v1/influencers/1000001"],
      ["DELETE", "/v1/influencers/1000001"],
      ["GET", "/v1/influencers/1000001/metrics?resolution=1h"],
    ] as const) {
      const response = await call(path, bob.apiKey, { method });
      expect(response.status).toBe(404);
      expect((await json(response)).error.code).toBe("influencer_not_found");
    }
    expect((await json(await call("/v1/influencers", bob.apiKey))).total).toBe(0);
    expect((await json(await call("/v1/influencers/1000001", alice.apiKey))).status).toBe("active");
  });
});

describe("GET /v1/influencers/:id/metrics", () => {
  const T0 = Date.UTC(2026, 3, 1);
  const points: RawPoint[] = Array.from({ length: 180 }, (_, i) => ({
    ts: T0 + i * 20_000 + 7,
    followers: 1000 + ((i * 37) % 11),
    following: 5,
    posts: 10 + Math.floor(i / 60),
    likes: 400 + i,
    comments: 30,
    views: null,
  }));

  beforeAll(async () => {
    await track(alice.apiKey, { ids: ["seeded"], intervalSeconds: 3600 });
    await new InfluencerPartitions().ensureFor(h.host.warehouse.db, points);
    await writeInfluencerBatch(
      h.host.warehouse.sql,
      points.map(({ ts, ...counters }) => ({ tenantId: alice.id, influencerId: "seeded", ts, counters })),
      [],
    );
  });

  test("1m buckets (epoch seconds) and raw points (ISO 8601) match the stored points", async () => {
    const start = T0 / 1000;
    const response = await call(
      `/v1/influencers/seeded/metrics?start_time=${start}&end_time=${start + 3600}&resolution=1m`,
      alice.apiKey,
    );
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({ influencerId: "seeded", resolution: "1m", bucketSeconds: 60 });
    expect(body.buckets).toHaveLength(60);
    const expected = referenceBuckets(points, T0, T0 + 3_600_000, 60_000);
    expect(body.buckets.map((b: { followers: unknown }) => b.followers)).toEqual(
      expected.map((b) => b.followers),
    );
    expect(body.buckets[0].points).toBe(3);

    const raw = await json(
      await call(
        `/v1/influencers/seeded/metrics?start_time=2026-04-01T00:10:00Z&end_time=2026-04-01T00:11:00%2B00:00&resolution=raw`,
        alice.apiKey,
      ),
    );
    expect(raw.points.map((p: { ts: string }) => p.ts)).toEqual(
      points
        .filter((p) => p.ts >= T0 + 600_000 && p.ts < T0 + 660_000)
        .map((p) => new Date(p.ts).toISOString()),
    );
  });

  test("empty buckets are listed with nulls", async () => {
    const body = await json(
      await call(
        `/v1/influencers/seeded/metrics?start_time=2026-04-01T02:00:00Z&end_time=2026-04-01T05:00:00Z&resolution=1h`,
        alice.apiKey,
      ),
    );
    expect(body.buckets).toHaveLength(3);
    expect(body.buckets[0]).toMatchObject({
      points: 0,
      followers: { last: null, min: null, max: null, change: null },
      engagementRate: null,
    });
  });

  test("bad ranges are 400s naming the parameter", async () => {
    const cases: [string, string][] = [
      ["start_time=2026-04-02&end_time=2026-04-01", "start_time"],
      ["start_time=2026-04-01&end_time=2026-04-03&resolution=raw", "end_time"],
      ["start_time=2026-01-01&end_time=2026-04-01&resolution=1m", "end_time"],
      ["resolution=5m", "resolution"],
      ["start_time=yesterday", "start_time"],
      ["end_time=2026-04-01T00:00:00", "end_time"],
    ];
    for (const [query, field] of cases) {
      const response = await call(`/v1/influencers/seeded/metrics?${query}`, alice.apiKey);
      expect(response.status).toBe(400);
      const error = (await json(response)).error;
      expect(error.fields[0].field).toBe(field);
      expect(error.message).toStartWith(`${field}:`);
    }
  });

  test("without the signing key the edge says the metrics are unavailable (503), never a 500", async () => {
    const unsigned = createApp({ ...h.services, influencers: { minIntervalSeconds: 1 } });
    const response = await unsigned.request("/v1/influencers/seeded/metrics?resolution=1h", {
      headers: { authorization: `Bearer ${alice.apiKey}` },
    });
    expect(response.status).toBe(503);
    expect((await json(response)).error.code).toBe("metrics_unavailable");
  });
});

test("the edge reads its influencer settings and signing key from the environment", () => {
  const config = readEdgeConfig({
    UPSTASH_REDIS_REST_URL: "u",
    UPSTASH_REDIS_REST_TOKEN: "t",
    QSTASH_CURRENT_SIGNING_KEY: "sig",
    INFLUENCER_MIN_INTERVAL_SECONDS: "1",
    INFLUENCER_TICK_PRECISION_MS: "1",
  });
  expect(config.actorSigningKey).toBe("sig");
  expect(config.influencers).toEqual({ minIntervalSeconds: 1, tickPrecisionMs: 1 });
  expect(() =>
    readEdgeConfig({
      UPSTASH_REDIS_REST_URL: "u",
      UPSTASH_REDIS_REST_TOKEN: "t",
      INFLUENCER_MIN_INTERVAL_SECONDS: "0",
    }),
  ).toThrow("INFLUENCER_MIN_INTERVAL_SECONDS");
});

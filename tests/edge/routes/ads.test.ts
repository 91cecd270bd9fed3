// The live ad API against a brute-force count of the same events, ingested through the real path.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ingestActor } from "../../../actors/ingest.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import type { IngestEvent } from "../../../src/domain/events/index.ts";
import { keys } from "../../../src/domain/keys.ts";
import { epochMinute, type LeaderboardMetric, SPEND_SCALE } from "../../../src/domain/leaderboard/index.ts";
import { LEADERBOARD_METRICS, leaderboardAmount, makeEvents } from "../../events/support.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";

let h: EdgeHarness;
let tenant: { id: string; apiKey: string };
let events: IngestEvent[];

beforeAll(async () => {
  h = await startHarness({ actors: [tenantSyncActor, ingestActor] });
  tenant = await h.createTenant({ rateLimit: 10_000 });
  const now = Date.now();
  // 3,000 events over the last 70 minutes (some outside every window), 300 ads with skewed popularity.
  events = makeEvents(3000, { from: now - 70 * 60_000, to: now, ads: 300, seed: 42 });
  for (let i = 0; i < events.length; i += 1000) {
    const response = await ingest(tenant.apiKey, events.slice(i, i + 1000));
    expect(response.status).toBe(202);
  }
  await waitFor(
    "the events to be ingested",
    async () => {
      const [row] = await h.host.warehouse.sql`
        select count(*)::int as n, (select count(*)::int from leaderboard_outbox where tenant_id = ${tenant.id}) as pending
        from ad_events where tenant_id = ${tenant.id}`;
      const { n, pending } = row as { n: number; pending: number };
      return n === events.length && pending === 0 ? true : undefined;
    },
    15_000,
  );
});
afterAll(() => h.stop());

function ingest(key: string, batch: unknown[]) {
  return h.request("/v1/events", { method: "POST", key, body: JSON.stringify({ events: batch }) });
}

function get(path: string, key = tenant.apiKey) {
  return h.request(path, { key });
}

/** Ad → metric value over the minutes [fromMinute, toMinute), by brute force, as exact integers for spend. */
function bruteForce(metric: LeaderboardMetric, fromMinute: number, toMinute: number, only = events) {
  const totals = new Map<string, number>();
  for (const event of only) {
    const minute = epochMinute(Date.parse(event.ts));
    if (minute < fromMinute || minute >= toMinute) continue;
    const amount = leaderboardAmount(event, metric);
    if (amount !== 0) totals.set(event.ad, (totals.get(event.ad) ?? 0) + amount);
  }
  return totals;
}

/** The expected ranking: value descending, ties by ad id descending (Redis's REV order), first `limit`. */
function ranking(totals: Map<string, number>, metric: LeaderboardMetric, limit: number) {
  return [...totals]
    .sort(([adA, a], [adB, b]) => b - a || (adA < adB ? 1 : adA > adB ? -1 : 0))
    .slice(0, limit)
    .map(([ad, value], i) => ({
      rank: i + 1,
      ad,
      [metric]: metric === "spend" ? value / SPEND_SCALE : value,
    }));
}

function windowOf(meta: { from: string; to: string }): [number, number] {
  return [epochMinute(Date.parse(meta.from)), epochMinute(Date.parse(meta.to))];
}

describe("GET /v1/ads/top", () => {
  for (const metric of LEADERBOARD_METRICS) {
    test(`top 100 by ${metric} over 60 minutes equals a brute-force count`, async () => {
      const body = await json(await get(`/v1/ads/top?window=60m&metric=${metric}&limit=100`));
      expect(body.meta).toMatchObject({ metric, limit: 100, window: "60m" });
      const [from, to] = windowOf(body.meta);
      expect(to - from).toBe(60);
      expect(body.data).toEqual(ranking(bruteForce(metric, from, to), metric, 100));
      expect(body.data.length).toBeGreaterThan(50);
    });
  }

  test("defaults: clicks, one minute (the current one), limit 100", async () => {
    const body = await json(await get("/v1/ads/top"));
    expect(body.meta).toMatchObject({ metric: "clicks", window: "1m", limit: 100 });
    const [from, to] = windowOf(body.meta);
    expect(to - from).toBe(1);
    expect(to).toBe(epochMinute(Date.now()) + 1);
    expect(body.data).toEqual(ranking(bruteForce("clicks", from, to), "clicks", 100));
  });

  test("one minute is served from the minute's snapshot; without it, the same answer comes from the set", async () => {
    for (const limit of [100, 7]) {
      const fromSnapshot = await json(await get(`/v1/ads/top?limit=${limit}&metric=impressions`));
      const [from] = windowOf(fromSnapshot.meta);
      const snapshotKey = keys.topSnapshot(tenant.id, "impressions", from);
      const saved = await h.redis.get(snapshotKey);
      expect(saved).not.toBeNull();
      await h.redis.del(snapshotKey);
      const fromSet = await json(await get(`/v1/ads/top?limit=${limit}&metric=impressions`));
      await h.redis.set(snapshotKey, JSON.stringify(saved), { ex: 600 });
      if (windowOf(fromSet.meta)[0] !== from) continue; // the minute turned meanwhile: nothing to compare
      expect(fromSet.data).toEqual(fromSnapshot.data);
      expect(fromSnapshot.data).toEqual(
        ranking(bruteForce("impressions", from, from + 1), "impressions", limit),
      );
    }
  });

  test("a snapshot held by the edge gives way at once to a changed one", async () => {
    const other = await h.createTenant({ rateLimit: 10_000 });
    const minute = epochMinute(Date.now());
    const store = async (flat: unknown[]) => {
      // This minute and the next, in case the minute turns during the test.
      for (const m of [minute, minute + 1]) {
        await h.redis.set(keys.topSnapshot(other.id, "clicks", m), JSON.stringify(flat), { ex: 600 });
      }
    };
    const top = async () => (await json(await get("/v1/ads/top", other.apiKey))).data;
    await store(["ad-a", 5, "ad-b", 3]);
    for (let i = 0; i < 3; i++) {
      expect(await top()).toEqual([
        { rank: 1, ad: "ad-a", clicks: 5 },
        { rank: 2, ad: "ad-b", clicks: 3 },
      ]);
    }
    await store(["ad-c", 9]);
    expect(await top()).toEqual([{ rank: 1, ad: "ad-c", clicks: 9 }]);
    expect(await top()).toEqual([{ rank: 1, ad: "ad-c", clicks: 9 }]);
  });

  test("a small limit and a mid-size window", async () => {
    const body = await json(await get("/v1/ads/top?window=7&limit=5&metric=impressions"));
    const [from, to] = windowOf(body.meta);
    expect(to - from).toBe(7);
    expect(body.data).toEqual(ranking(bruteForce("impressions", from, to), "impressions", 5));
  });

  test("ad ids that look like JSON come back as the strings they are", async () => {
    const t = await h.createTenant();
    const odd = ["123", "[1]", "null", 'say "hi"', "true", "1e3", "{}", "ünïcödé"];
    const base = makeEvents(1, { from: Date.now() - 1000, to: Date.now(), seed: 5 })[0] as IngestEvent;
    const clicks = odd.flatMap((ad, i) =>
      Array.from({ length: i + 1 }, (_, n) => ({ ...base, id: `odd-${i}-${n}`, kind: "click", ad })),
    );
    expect((await ingest(t.apiKey, clicks)).status).toBe(202);
    const top = await waitFor("the odd ads", async () => {
      const body = await json(await get("/v1/ads/top?window=2m", t.apiKey));
      return body.data.length === odd.length ? body : undefined;
    });
    expect(top.data.map((row: { ad: string }) => row.ad)).toEqual([...odd].reverse());
    expect(top.data.map((row: { clicks: number }) => row.clicks)).toEqual(odd.map((_, i) => odd.length - i));
    const one = await json(await get(`/v1/ads/${encodeURIComponent('say "hi"')}/clicks?window=2m`, t.apiKey));
    expect(one.data.clicks).toBe(4);
  });

  test("another tenant sees none of it", async () => {
    const other = await h.createTenant();
    const body = await json(await get("/v1/ads/top?window=60m", other.apiKey));
    expect(body.data).toEqual([]);
    // A minute with no tally at all (neither set nor snapshot) answers empty too.
    expect((await json(await get("/v1/ads/top", other.apiKey))).data).toEqual([]);
  });

  test("a minute whose set exists without a snapshot is answered from the set", async () => {
    const other = await h.createTenant({ rateLimit: 10_000 });
    const minute = epochMinute(Date.now());
    // This minute and the next, in case the minute turns during the test.
    for (const m of [minute, minute + 1]) {
      await h.redis.zadd(keys.top(other.id, "clicks", m), { score: 4, member: "ad-set" });
      await h.redis.expire(keys.top(other.id, "clicks", m), 600);
    }
    expect((await json(await get("/v1/ads/top", other.apiKey))).data).toEqual([
      { rank: 1, ad: "ad-set", clicks: 4 },
    ]);
  });

  test("bad parameters are 400s naming each one", async () => {
    const response = await get("/v1/ads/top?window=61m&metric=views&limit=101");
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("invalid_parameter");
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual(["window", "metric", "limit"]);
    for (const query of ["window=0", "window=abc", "window=2h", "limit=0", "limit=1.5", "metric=CLICKS"]) {
      expect((await get(`/v1/ads/top?${query}`)).status).toBe(400);
    }
    expect((await get("/v1/ads/top?window=1h")).status).toBe(200);
    expect((await h.request("/v1/ads/top")).status).toBe(401);
  });
});

describe("GET /v1/ads/:ad/clicks", () => {
  test("one ad's clicks over the window, minute by minute, equal a brute-force count", async () => {
    const popular = ranking(bruteForce("clicks", 0, Number.MAX_SAFE_INTEGER), "clicks", 1)[0]?.ad as string;
    const body = await json(await get(`/v1/ads/${popular}/clicks?window=30m`));
    const [from, to] = windowOf(body.meta);
    expect(to - from).toBe(30);
    expect(body.data.ad).toBe(popular);
    expect(body.data.clicks).toBe(bruteForce("clicks", from, to).get(popular) ?? 0);
    expect(body.data.perMinute).toHaveLength(30);
    for (const { minute, clicks } of body.data.perMinute) {
      const m = epochMinute(Date.parse(minute));
      expect(clicks).toBe(bruteForce("clicks", m, m + 1).get(popular) ?? 0);
    }
  });

  test("an unknown ad has 0 clicks; a bad window names the parameter", async () => {
    const body = await json(await get("/v1/ads/no-such-ad/clicks"));
    expect(body.data).toMatchObject({ ad: "no-such-ad", clicks: 0 });
    const bad = await get("/v1/ads/x/clicks?window=90m");
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.fields[0].field).toBe("window");
  });
});

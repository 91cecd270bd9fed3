// The sink against real Redis and Postgres: batches land once, the `influencers` rows follow, an unreachable
// warehouse leaves everything pending until it is back, and a restarted or dead consumer's entries are not lost.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { startInfluencerSink } from "../../actors/influencer-sink.ts";
import type { InfluencerConfig } from "../../actors/influencers/config.ts";
import { createLogger } from "../../actors/log.ts";
import { recordPoint, recordStatus } from "../../src/domain/influencers/registry.ts";
import type { PointEntry } from "../../src/domain/influencers/stream.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { createTenantRow, DATABASE_URL, dropTenants, REDIS_URL, storedPoints, waitFor } from "./support.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

const run = crypto.randomUUID().slice(0, 8);
const TENANT = `sink-${run}`;
const UNKNOWN_TENANT = `sink-unknown-${run}`;
const T0 = Date.UTC(2026, 0, 1, 12);

let bridge: RedisRest;
let redis: Redis;
let direct: Warehouse;
let proxy: TcpProxy;
let throughProxy: Warehouse;
const streams: string[] = [];

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: run });
  redis = new Redis({ url: bridge.url, token: run, retry: false });
  direct = openWarehouse(DATABASE_URL, { max: 2 });
  await createTenantRow(direct.sql, TENANT);
  const url = new URL(DATABASE_URL);
  proxy = startTcpProxy(url.hostname, Number(url.port || 5432));
  url.port = String(proxy.port);
  throughProxy = openWarehouse(url.toString(), { max: 1, connectTimeoutSeconds: 2 });
});

afterAll(async () => {
  await throughProxy.close();
  proxy.stop();
  await dropTenants(direct.sql, redis, [TENANT, UNKNOWN_TENANT]);
  if (streams.length > 0) await redis.del(...streams);
  await direct.close();
  await bridge.stop();
});

function config(
  name: string,
  sink: Partial<InfluencerConfig["sink"]> = {},
): Pick<InfluencerConfig, "stream" | "sink"> {
  const key = `test:influencer-points:${run}:${name}`;
  streams.push(key);
  return {
    stream: { key, maxLength: 100_000 },
    sink: {
      enabled: true,
      group: "sink",
      consumer: "c1",
      batchSize: 50,
      blockMs: 100,
      lingerMs: 50,
      claimIdleMs: 30_000,
      ...sink,
    },
  };
}

const point = (influencerId: string, second: number, tenantId = TENANT): PointEntry => ({
  kind: "point",
  tenantId,
  influencerId,
  ts: T0 + second * 1000,
  startedAt: T0 + second * 1000 + 3,
  fetchedAt: T0 + second * 1000 + 9,
  intervalSeconds: 1,
  counters: { followers: 1000 + second, following: 7, posts: 3, likes: 50, comments: 5, views: null },
});

const quiet = () => createLogger({}, () => {});

describe("influencer sink", () => {
  test("stores every point once (duplicates ignored), fills the influencers row, skips rows of unknown tenants", async () => {
    const cfg = config("basic");
    for (let s = 0; s < 120; s++) await recordPoint(redis, cfg.stream, point("a", s));
    await recordPoint(redis, cfg.stream, point("a", 5)); // the same tick recorded twice
    await recordPoint(redis, cfg.stream, point("x", 0, UNKNOWN_TENANT));
    const sink = startInfluencerSink({ redis, warehouse: direct, config: cfg, log: quiet() });
    try {
      await waitFor("the stream to drain", async () =>
        (await redis.xlen(cfg.stream.key)) === 0 ? true : undefined,
      );
      expect(sink.stats()).toMatchObject({ stored: 121, duplicates: 1 });
      expect(sink.stats().batches).toBeGreaterThanOrEqual(3); // batches of at most 50
      const stored = await storedPoints(direct.sql, TENANT);
      expect(stored.get("a")).toEqual(Array.from({ length: 120 }, (_, s) => T0 + s * 1000));
      expect((await storedPoints(direct.sql, UNKNOWN_TENANT)).get("x")).toHaveLength(1);
      const [row] =
        await direct.sql`select status, interval_seconds, last_seen_at, last_error from influencers where tenant_id = ${TENANT} and influencer_id = 'a'`;
      expect(row).toMatchObject({ status: "active", interval_seconds: 1, last_error: null });
      expect(new Date(row?.last_seen_at as string).getTime()).toBe(T0 + 119_000 + 9);
      expect(await direct.sql`select 1 from influencers where tenant_id = ${UNKNOWN_TENANT}`).toHaveLength(0);

      await recordStatus(redis, cfg.stream, {
        kind: "status",
        tenantId: TENANT,
        influencerId: "a",
        status: "active",
        intervalSeconds: 1,
        error: "provider answered 503",
        at: T0,
      });
      await recordStatus(redis, cfg.stream, {
        kind: "status",
        tenantId: TENANT,
        influencerId: "a",
        status: "stopped",
        intervalSeconds: 1,
        error: null,
        at: T0,
      });
      await waitFor("the status row", async () => {
        const [r] =
          await direct.sql`select status, last_error from influencers where tenant_id = ${TENANT} and influencer_id = 'a'`;
        return r?.status === "stopped" ? r : undefined;
      }).then((r) => expect(r.last_error).toBe("provider answered 503"));
    } finally {
      await sink.stop();
    }
  });

  test("while the warehouse is unreachable nothing is acknowledged; once it is back every point lands once", async () => {
    const cfg = config("outage");
    const sink = startInfluencerSink({ redis, warehouse: throughProxy, config: cfg, log: quiet() });
    try {
      for (let s = 0; s < 20; s++) await recordPoint(redis, cfg.stream, point("b", s));
      await waitFor("the first points", async () =>
        (await storedPoints(direct.sql, TENANT)).get("b")?.length === 20 ? true : undefined,
      );
      proxy.cut();
      for (let s = 20; s < 60; s++) await recordPoint(redis, cfg.stream, point("b", s));
      await Bun.sleep(1500);
      expect(sink.stats().writeFailures).toBeGreaterThan(0);
      expect(await redis.xlen(cfg.stream.key)).toBe(40); // nothing acknowledged, nothing deleted
      expect((await storedPoints(direct.sql, TENANT)).get("b")).toHaveLength(20);
      proxy.restore();
      await waitFor(
        "the backlog to land",
        async () => ((await redis.xlen(cfg.stream.key)) === 0 ? true : undefined),
        15_000,
      );
      expect((await storedPoints(direct.sql, TENANT)).get("b")).toEqual(
        Array.from({ length: 60 }, (_, s) => T0 + s * 1000),
      );
    } finally {
      proxy.restore();
      await sink.stop();
    }
  });

  test("a consumer that stops mid-outage finds its pending entries on restart; a dead one's are taken over", async () => {
    const cfg = config("restart", { consumer: "host-a" });
    proxy.cut();
    // Recorded before the sink starts, so its first read takes all of them (a failing batch is retried, not grown).
    for (let s = 0; s < 10; s++) await recordPoint(redis, cfg.stream, point("c", s));
    const first = startInfluencerSink({ redis, warehouse: throughProxy, config: cfg, log: quiet() });
    await waitFor("host-a to hold the entries", async () => {
      const pending = (await redis.exec(["XPENDING", cfg.stream.key, "sink"])) as [number];
      return Number(pending[0]) === 10 ? true : undefined;
    });
    await first.stop(); // gives up its retries: the entries stay pending for host-a
    proxy.restore();

    // Another host with a short idle threshold takes host-a's entries over.
    const other = startInfluencerSink({
      redis,
      warehouse: direct,
      config: { ...cfg, sink: { ...cfg.sink, consumer: "host-b", claimIdleMs: 200 } },
      log: quiet(),
    });
    try {
      await waitFor("host-b to store them", async () =>
        (await storedPoints(direct.sql, TENANT)).get("c")?.length === 10 ? true : undefined,
      );
      await waitFor("the stream to drain", async () =>
        (await redis.xlen(cfg.stream.key)) === 0 ? true : undefined,
      );
    } finally {
      await other.stop();
    }

    // The same consumer name restarting reads its own pending entries first.
    proxy.cut();
    for (let s = 10; s < 15; s++) await recordPoint(redis, cfg.stream, point("c", s));
    const again = startInfluencerSink({ redis, warehouse: throughProxy, config: cfg, log: quiet() });
    await waitFor("host-a to hold the new entries", async () => {
      const pending = (await redis.exec(["XPENDING", cfg.stream.key, "sink"])) as [number];
      return Number(pending[0]) === 5 ? true : undefined;
    });
    await again.stop();
    proxy.restore();
    const restarted = startInfluencerSink({ redis, warehouse: throughProxy, config: cfg, log: quiet() });
    try {
      await waitFor("the restarted host-a to store them", async () =>
        (await storedPoints(direct.sql, TENANT)).get("c")?.length === 15 ? true : undefined,
      );
    } finally {
      await restarted.stop();
    }
  });
});

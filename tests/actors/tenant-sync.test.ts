// Tenants in two places: the tenant-sync actor keeps Postgres in step with Redis, and restoring copies
// Postgres back into Redis when Redis lost them, so losing Redis does not lock tenants out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { restoreTenants, tenantSyncActor, upsertTenant } from "../../actors/tenant-sync.ts";
import { globalKeys, keys } from "../../src/domain/keys.ts";
import {
  DEFAULT_LIMITS,
  hashApiKey,
  newApiKey,
  newTenantId,
  type TenantRecord,
  tenantFromHash,
  tenantToHash,
} from "../../src/domain/tenants.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { startChild } from "../../src/local/services/supervisor.ts";
import { REPO_ROOT, testDatabaseUrl } from "../edge/support/stack.ts";
import { deliver, startTestHost, type TestHost } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TOKEN = `tenant-sync-${crypto.randomUUID()}`;
let bridge: RedisRest;
let redis: Redis;
let host: TestHost;
const created: string[] = [];

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN });
  host = startTestHost({ actors: [tenantSyncActor], redisRestUrl: bridge.url, redisRestToken: TOKEN });
});

afterAll(async () => {
  if (created.length > 0)
    await host.warehouse.sql`delete from tenants where id in ${host.warehouse.sql(created)}`;
  for (const id of created) {
    await redis.del(keys.tenant(id));
    await redis.srem(globalKeys.tenants, id);
  }
  await host.close();
  await bridge.stop();
});

async function newRecord(overrides: Partial<TenantRecord> = {}): Promise<TenantRecord> {
  const id = newTenantId();
  created.push(id);
  return {
    id,
    name: "sync test",
    apiKeyHash: await hashApiKey(newApiKey(id)),
    ...DEFAULT_LIMITS,
    createdAt: Date.now(),
    disabledAt: null,
    revision: 1,
    ...overrides,
  };
}

async function row(id: string) {
  const [found] = await host.warehouse.sql`
    select name, concurrency_limit, rate_limit, disabled_at from tenants where id = ${id}`;
  return found;
}

describe("the tenant-sync actor", () => {
  test("writes the snapshot when Redis has nothing newer", async () => {
    const record = await newRecord({ concurrencyLimit: 9 });
    const response = await deliver(host, "tenant-sync", {
      body: JSON.stringify({ tenantId: record.id, snapshot: record }),
    });
    expect(response.status).toBe(200);
    expect(await row(record.id)).toMatchObject({ name: "sync test", concurrency_limit: 9 });
  });

  test("a late, older message cannot undo a newer change: Redis's newer copy wins", async () => {
    const old = await newRecord({ rateLimit: 10 });
    const newer = { ...old, rateLimit: 20, revision: 2 };
    await redis.hset(keys.tenant(old.id), tenantToHash(newer));
    await deliver(host, "tenant-sync", { body: JSON.stringify({ tenantId: old.id, snapshot: old }) });
    expect((await row(old.id))?.rate_limit).toBe(20);
  });

  test("a malformed snapshot is refused (489) naming the field", async () => {
    const record = await newRecord();
    const response = await deliver(host, "tenant-sync", {
      body: JSON.stringify({ tenantId: record.id, snapshot: { ...record, apiKeyHash: "not-hex" } }),
    });
    expect(response.status).toBe(489);
    expect(((await response.json()) as { field: string }).field).toBe("snapshot.apiKeyHash");
  });
});

describe("restoring Redis from Postgres", () => {
  test("copies back tenants Redis lost, and leaves Redis's own (possibly newer) copies alone", async () => {
    const lost = await newRecord({ name: "lost", disabledAt: Date.now() - 1000 });
    const kept = await newRecord({ name: "kept in postgres" });
    await upsertTenant(host.warehouse.sql, lost);
    await upsertTenant(host.warehouse.sql, kept);
    await redis.hset(keys.tenant(kept.id), tenantToHash({ ...kept, name: "newer in redis", revision: 3 }));

    const { restored } = await restoreTenants(host.warehouse.sql, redis);
    expect(restored).toBeGreaterThanOrEqual(1);
    const back = tenantFromHash(await redis.hgetall(keys.tenant(lost.id)));
    expect(back).toEqual({
      ...lost,
      createdAt: expect.any(Number),
      disabledAt: expect.any(Number),
      revision: 1,
    });
    expect(Math.abs((back?.createdAt ?? 0) - lost.createdAt)).toBeLessThan(1000);
    expect(tenantFromHash(await redis.hgetall(keys.tenant(kept.id)))?.name).toBe("newer in redis");
    expect(await redis.sismember(globalKeys.tenants, lost.id)).toBe(1);
  });

  test("the actors host restores at startup", async () => {
    const record = await newRecord({ name: "restored at startup" });
    await upsertTenant(host.warehouse.sql, record);
    const actors = await startChild({
      name: "actors",
      command: [process.execPath, "actors/main.ts"],
      cwd: REPO_ROOT,
      env: {
        PORT: "0",
        DATABASE_URL: testDatabaseUrl(),
        DATABASE_POOL_MAX: "1",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: TOKEN,
      },
      log: () => {},
    });
    try {
      const deadline = Date.now() + 10_000;
      let back: TenantRecord | null = null;
      while (!back && Date.now() < deadline) {
        back = tenantFromHash(await redis.hgetall(keys.tenant(record.id)));
        if (!back) await Bun.sleep(50);
      }
      expect(back?.apiKeyHash).toBe(record.apiKeyHash);
      expect(actors.recentOutput().join("\n")).toContain("tenants restored to Redis");
    } finally {
      await actors.stop();
    }
  }, 20_000);
});

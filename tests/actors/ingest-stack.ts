// What the ingest actor's tests stand on: a throwaway warehouse, the Redis REST bridge in front of the shared
// Redis, the real actors host serving the ingest actor, and an Upstash client on the bridge. Every tenant it
// hands out has its Redis keys dropped on close, since the Redis is shared.
import { Redis } from "@upstash/redis";
import { ingestActor } from "../../actors/ingest.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { openTestWarehouse, type TestWarehouse } from "../domain/query/support.ts";
import { dropTenantKeys, testTenant } from "../events/support.ts";
import { startTestHost, type TestHost } from "./support.ts";

export interface IngestStack {
  warehouse: TestWarehouse;
  bridge: RedisRest;
  /** The bridge's token, for processes started against the bridge. */
  token: string;
  host: TestHost;
  redis: Redis;
  /** A fresh tenant id (`<label>-<random>`) whose keys `close` removes. */
  tenant(label: string): string;
  close(): Promise<void>;
}

export async function startIngestStack(name: string): Promise<IngestStack> {
  const token = `${name}-${crypto.randomUUID()}`;
  const tenants: string[] = [];
  const warehouse = await openTestWarehouse();
  let bridge: RedisRest;
  try {
    bridge = await startRedisRest({
      redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      port: 0,
      token,
    });
  } catch (error) {
    await warehouse.close();
    throw error;
  }
  const host = startTestHost({
    actors: [ingestActor],
    databaseUrl: warehouse.url,
    redisRestUrl: bridge.url,
    redisRestToken: token,
  });
  const redis = new Redis({ url: bridge.url, token });
  return {
    warehouse,
    bridge,
    token,
    host,
    redis,
    tenant(label) {
      const id = testTenant(label);
      tenants.push(id);
      return id;
    },
    async close() {
      await dropTenantKeys(redis, tenants);
      await host.close();
      await bridge.stop();
      await warehouse.close();
    },
  };
}

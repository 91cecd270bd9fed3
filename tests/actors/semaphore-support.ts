// Shared by the semaphore tests: the real Redis REST bridge in this process, a client on it, and a key prefix
// of this run (every key the tests create starts with it and is deleted afterwards).
import { Redis } from "@upstash/redis";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface RedisFixture {
  bridge: RedisRest;
  redis: Redis;
  token: string;
  /** Unique per fixture; tenant-style keys use it as the tenant id, e.g. `{t:<prefix>-a}:sem`. */
  prefix: string;
  /** Deletes every key matching one of the patterns, then stops the bridge. */
  close(patterns: string[]): Promise<void>;
}

export async function openRedisFixture(name: string): Promise<RedisFixture> {
  const token = `${name}-${crypto.randomUUID()}`;
  const bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token });
  const redis = new Redis({ url: bridge.url, token });
  const prefix = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    bridge,
    redis,
    token,
    prefix,
    async close(patterns) {
      for (const pattern of patterns) {
        const found = await redis.keys(pattern);
        if (found.length > 0) await redis.del(...found);
      }
      await bridge.stop();
    },
  };
}

/** Redis's own clock in ms (leases are scored by it). */
export async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return seconds * 1000 + Math.floor(micros / 1000);
}

// Shared set-up for the bridge tests: an in-process bridge on a free port, the official client
// pointed at it, a direct connection to cross-check, and a key prefix cleaned up afterwards.
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { type RedisRest, startRedisRest } from "../../../src/local/redis-rest/index.ts";
import { RespConnection } from "../../../src/local/resp/index.ts";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const token = `test-token-${crypto.randomUUID()}`;

export interface BridgeFixture {
  bridge: RedisRest;
  /** The official client with default options (base64 responses, auto-pipelining off). */
  redis: Redis;
  /** A direct RESP connection to the same Redis, to check state behind the bridge's back. */
  direct: RespConnection;
  /** Unique per test file; every key a test creates starts with it. */
  key(name: string): string;
  client(options?: Partial<RedisConfigNodejs>): Redis;
  close(): Promise<void>;
}

export async function startBridge(file: string): Promise<BridgeFixture> {
  const bridge = await startRedisRest({ redisUrl, port: 0, token });
  const direct = await RespConnection.connect(redisUrl);
  const prefix = `test:redis-rest:${file}:${crypto.randomUUID().slice(0, 8)}:`;
  const client = (options: Partial<RedisConfigNodejs> = {}) =>
    new Redis({ url: bridge.url, token, retry: false, ...options });
  return {
    bridge,
    redis: client(),
    direct,
    key: (name) => `${prefix}${name}`,
    client,
    async close() {
      const keys = (await direct.call(["KEYS", `${prefix}*`])) as Buffer[];
      if (keys.length > 0) await direct.call(["DEL", ...keys]);
      await direct.close();
      await bridge.stop();
    },
  };
}

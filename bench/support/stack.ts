// The whole Fairway stack as separate processes on OS-chosen ports (bridge, broker, actors host, edge), for the
// benches that measure the public path end to end.
import { Redis } from "@upstash/redis";
import { DEV_CREDENTIALS } from "../../src/local/qstash/config.ts";
import type { RunningChild } from "../../src/local/services/supervisor.ts";
import { startBenchChild } from "./processes.ts";

export interface BenchStackOptions {
  redisUrl: string;
  databaseUrl: string;
  /** Bearer token the bridge requires. */
  bridgeToken: string;
  /** Where the broker keeps its state in Redis, so the bench can remove it afterwards. */
  brokerPrefix: string;
  operatorToken: string;
  /** Extra settings for the actors host. */
  actorsEnv?: Record<string, string>;
}

export interface BenchStack {
  bridge: string;
  qstash: string;
  actors: string;
  edge: string;
  /** A client of the bridge, for the bench's own reads and clean-up. */
  redis: Redis;
}

/** Starts the four processes in dependency order, adding each to `children` so the caller stops them. */
export async function startBenchStack(
  children: RunningChild[],
  options: BenchStackOptions,
): Promise<BenchStack> {
  const bridge = await startBenchChild(children, "redis-rest", "src/local/redis-rest/main.ts", {
    REDIS_URL: options.redisUrl,
    TOKEN: options.bridgeToken,
  });
  const qstash = await startBenchChild(children, "qstash", "src/local/qstash/main.ts", {
    REDIS_URL: options.redisUrl,
    QSTASH_KEY_PREFIX: options.brokerPrefix,
  });
  const actors = await startBenchChild(children, "actors", "actors/main.ts", {
    DATABASE_URL: options.databaseUrl,
    DATABASE_POOL_MAX: "8",
    UPSTASH_REDIS_REST_URL: bridge,
    UPSTASH_REDIS_REST_TOKEN: options.bridgeToken,
    QSTASH_URL: qstash,
    ...options.actorsEnv,
  });
  const edge = await startBenchChild(children, "edge", "src/edge/bun.ts", {
    UPSTASH_REDIS_REST_URL: bridge,
    UPSTASH_REDIS_REST_TOKEN: options.bridgeToken,
    ACTORS_URL: actors,
    QSTASH_URL: qstash,
    QSTASH_TOKEN: DEV_CREDENTIALS.token,
    FAIRWAY_OPERATOR_TOKEN: options.operatorToken,
  });
  const redis = new Redis({ url: bridge, token: options.bridgeToken, enableTelemetry: false });
  return { bridge, qstash, actors, edge, redis };
}

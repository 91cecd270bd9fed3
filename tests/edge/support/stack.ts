// What the edge needs around it in tests: the real Redis REST bridge (in this process) and a real actors host.
import { fileURLToPath } from "node:url";
import { startRedisRest } from "../../../src/local/redis-rest/index.ts";
import { type RunningChild, startChild } from "../../../src/local/services/supervisor.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface EdgeTestStack {
  redisRestUrl: string;
  redisRestToken: string;
  actorsUrl: string;
  /** The variables every edge starter reads. */
  edgeEnv: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEdgeStack(): Promise<EdgeTestStack> {
  const redisRestToken = `edge-test-${crypto.randomUUID()}`;
  const bridge = await startRedisRest({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: 0,
    token: redisRestToken,
  });
  let actors: RunningChild;
  try {
    actors = await startActorsHost();
  } catch (error) {
    await bridge.stop();
    throw error;
  }
  const actorsUrl = actors.url as string;
  return {
    redisRestUrl: bridge.url,
    redisRestToken,
    actorsUrl,
    edgeEnv: {
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: redisRestToken,
      ACTORS_URL: actorsUrl,
    },
    async stop() {
      await actors.stop();
      await bridge.stop();
    },
  };
}

/** The actors host on a free port; its /health is the edge's window on Postgres. */
export function startActorsHost(databaseUrl = testDatabaseUrl()): Promise<RunningChild> {
  return startChild({
    name: "actors",
    command: [process.execPath, "actors/main.ts"],
    cwd: REPO_ROOT,
    env: {
      PORT: "0",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? "1",
    },
    log: () => {},
  });
}

export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";
}

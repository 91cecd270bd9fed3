// Resolves the Redis and Postgres the local stack runs on, starting what is missing.
import { join, resolve } from "node:path";
import { ServiceUnavailableError } from "./errors.ts";
import { type ResolvedPostgres, resolvePostgres } from "./postgres.ts";
import { type ResolvedRedis, redisDataDir, resolveRedis } from "./redis.ts";

export { ServiceUnavailableError } from "./errors.ts";
export { choosePort, freePort } from "./ports.ts";
export { POOL_MAX } from "./postgres.ts";
export { type ChildSpec, READY_LINE, type RunningChild, Supervisor, startChild } from "./supervisor.ts";

export interface ServicesOptions {
  /** Where REDIS_URL, DATABASE_URL, DATABASE_POOL_MAX and FAIRWAY_PGLITE are read from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Database on the local server: `fairway` for dev, `fairway_test` for the test run. */
  database?: string;
  /** Home of spawned services' files; default `.fairway` in the working directory. */
  stateDir?: string;
  /** PGlite's data directory; default `<stateDir>/pglite`; `null` keeps it in memory. */
  pgliteDataDir?: string | null;
  /** Use PGlite even when a Postgres server answers. */
  forcePglite?: boolean;
  /** The Redis tried before spawning one (default redis://127.0.0.1:6379). */
  localRedisUrl?: string;
  /** The Postgres server tried before PGlite (default postgres@127.0.0.1:5432). */
  localPostgres?: { host: string; port: number; user: string };
  /** The program spawned when no Redis answers (default `redis-server` from PATH). */
  redisServer?: string;
  log?: (line: string) => void;
}

export interface Services {
  redisUrl: string;
  databaseUrl: string;
  /** The pool size every postgres.js client must use (`max`): 1 for PGlite. */
  poolMax: number;
  backend: "server" | "pglite";
  /** How each one was found, for the dev table. */
  sources: { redis: ResolvedRedis["source"]; postgres: ResolvedPostgres["source"] };
  /** Stops what was started here (a spawned redis-server, PGlite); servers found running are left alone. */
  stop(): Promise<void>;
  /** SIGKILL a spawned redis-server, without waiting (PGlite lives in this process and dies with it). */
  kill(): void;
}

export async function resolveServices(options: ServicesOptions = {}): Promise<Services> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(`fairway: ${line}`));
  const stateDir = resolve(options.stateDir ?? ".fairway");
  const pgliteDataDir =
    options.pgliteDataDir === undefined ? join(stateDir, "pglite") : options.pgliteDataDir;
  const poolMaxOverride = readPoolMax(env);

  const redis = await resolveRedis({
    envUrl: env.REDIS_URL,
    localUrl: options.localRedisUrl,
    redisServer: options.redisServer,
    dataDir: redisDataDir(stateDir),
    log,
  });
  let pg: ResolvedPostgres;
  try {
    pg = await resolvePostgres({
      envUrl: env.DATABASE_URL,
      database: options.database ?? "fairway",
      local: options.localPostgres,
      // FAIRWAY_PGLITE=1 tries the embedded fallback on a machine that has a Postgres server.
      forcePglite: options.forcePglite ?? env.FAIRWAY_PGLITE === "1",
      pgliteDataDir: pgliteDataDir ?? undefined,
      log,
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }

  return {
    redisUrl: redis.url,
    databaseUrl: pg.url,
    poolMax: poolMaxOverride ?? pg.poolMax,
    backend: pg.backend,
    sources: { redis: redis.source, postgres: pg.source },
    async stop() {
      await Promise.all([redis.stop(), pg.stop()]);
    },
    kill: () => redis.kill(),
  };
}

/** An explicit DATABASE_POOL_MAX wins: it is how a DATABASE_URL pointing at PGlite gets a pool of 1. */
function readPoolMax(env: Record<string, string | undefined>): number | undefined {
  const raw = env.DATABASE_POOL_MAX;
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new ServiceUnavailableError(`DATABASE_POOL_MAX must be a positive integer, got "${raw}"`);
  }
  return value;
}

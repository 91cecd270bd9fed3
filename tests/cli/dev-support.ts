// `npm run dev` as the CLI tests run it: a child process on OS-chosen ports (so it never collides with a
// developer's running stack) keeping its state in the test's own directory. Each start in a fresh state dir
// creates a demo tenant; the shared Postgres and Redis outlive the test, so the tests remove those tenants.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { globalKeys, keys } from "../../src/domain/keys.ts";
import { RedisLink } from "../../src/local/qstash/store/redis-link.ts";
import type { DevFile } from "../../src/local/services/dev-file.ts";
import { type RunningChild, startChild } from "../../src/local/services/supervisor.ts";
import { REPO_ROOT } from "../edge/support/stack.ts";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";

/** Starts `npm run dev` with its state in `stateDir`; resolves once it says the stack is ready. */
export function startDev(
  stateDir: string,
  options: { env?: Record<string, string>; log?: (line: string) => void } = {},
): Promise<RunningChild> {
  return startChild({
    name: "dev",
    command: [process.execPath, "src/cli/dev.ts"],
    cwd: REPO_ROOT,
    env: {
      FAIRWAY_STATE_DIR: stateDir,
      EDGE_PORT: "0",
      REDIS_REST_PORT: "0",
      QSTASH_PORT: "0",
      ACTORS_PORT: "0",
      DATABASE_URL,
      ...options.env,
    },
    ready: /^fairway: stack ready (http\S+)/,
    readyTimeoutMs: 30_000,
    log: options.log ?? (() => {}),
  });
}

/** What the running stack wrote about itself. */
export function readDevFile(stateDir: string): DevFile {
  return JSON.parse(readFileSync(join(stateDir, "dev.json"), "utf8")) as DevFile;
}

/**
 * Removes demo tenants from Postgres and their serving copy from Redis. Call it once the stacks have stopped:
 * a running actors host would restore a tenant it still finds in Postgres.
 */
export async function dropDemoTenants(tenantIds: ReadonlySet<string>): Promise<void> {
  if (tenantIds.size === 0) return;
  const sql = postgres(DATABASE_URL, { max: 1 });
  await sql`delete from tenants where id in ${sql([...tenantIds])}`;
  await sql.end();
  const redis = await RedisLink.open(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", "dev-test-cleanup");
  for (const id of tenantIds) {
    await redis.call(["DEL", keys.tenant(id)]);
    await redis.call(["SREM", globalKeys.tenants, id]);
  }
  await redis.close();
}

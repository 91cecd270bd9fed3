// `npm run dev` provides a demo tenant: created on the first start, reused on the next while its key works.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "@upstash/redis";
import postgres from "postgres";
import { globalKeys, keys } from "../../src/domain/keys.ts";
import type { DevFile } from "../../src/local/services/dev-file.ts";
import { startChild } from "../../src/local/services/supervisor.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";
const stateDir = mkdtempSync(join(tmpdir(), "fairway-dev-demo-"));
const tenants = new Set<string>();

afterAll(async () => {
  const sql = postgres(DATABASE_URL, { max: 1 });
  if (tenants.size > 0) await sql`delete from tenants where id in ${sql([...tenants])}`;
  await sql.end();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Starts the stack, reads dev.json, calls `use`, stops the stack (cleaning the tenant out of Redis last). */
async function withDev(use: (info: DevFile) => Promise<void>, cleanRedis = false): Promise<DevFile> {
  const dev = await startChild({
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
    },
    ready: /^fairway: stack ready (http\S+)/,
    readyTimeoutMs: 30_000,
    log: () => {},
  });
  try {
    const info = JSON.parse(readFileSync(join(stateDir, "dev.json"), "utf8")) as DevFile;
    if (info.demo) tenants.add(info.demo.tenantId);
    await use(info);
    if (cleanRedis && info.demo) {
      const redis = new Redis({ url: info.redisRest.url, token: info.redisRest.token });
      await redis.del(keys.tenant(info.demo.tenantId));
      await redis.srem(globalKeys.tenants, info.demo.tenantId);
    }
    return info;
  } finally {
    await dev.stop();
  }
}

const meta = (info: DevFile) =>
  fetch(`${info.edge.url}/v1/meta`, { headers: { authorization: `Bearer ${info.demo?.apiKey}` } });

test("the demo tenant is recorded in dev.json, works, and is reused on the next start", async () => {
  const first = await withDev(async (info) => {
    expect(info.demo?.apiKey).toStartWith(`fw_${info.demo?.tenantId}_`);
    expect(info.operatorToken).toBeString();
    expect((await meta(info)).status).toBe(200);
  });
  const second = await withDev(async (info) => {
    expect(info.demo).toEqual(first.demo as DevFile["demo"]);
    expect((await meta(info)).status).toBe(200);
  }, true);
  expect(second.demo?.tenantId).toBe(first.demo?.tenantId as string);
}, 90_000);

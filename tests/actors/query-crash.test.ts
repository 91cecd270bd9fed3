// A host killed (SIGKILL) in the middle of a query: QStash redelivers the query, the redelivery waits for the
// dead run's leases to lapse (it cannot tell a dead host from a slow one sooner), then runs it. Nothing is
// lost, nothing is left holding a permit.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { fileURLToPath } from "node:url";
import { Client, Receiver } from "@upstash/qstash";
import { serveActors } from "../../actors/host.ts";
import { createLogger } from "../../actors/log.ts";
import { createQueryActor } from "../../actors/query.ts";
import { keys } from "../../src/domain/keys.ts";
import { freePort } from "../../src/local/services/ports.ts";
import { openWarehouse } from "../../src/warehouse/db.ts";
import {
  cachedResult,
  type LogLine,
  type QueryStack,
  runDirectly,
  sampleEvents,
  seed,
  startQueryStack,
  statusOf,
  submit,
  waitForCompletion,
  waitUntil,
} from "./query-support.ts";
import { QSTASH_TOKEN, SIGNING } from "./support.ts";

const LEASE_TTL_MS = 2000;
let stack: QueryStack;

beforeAll(async () => {
  stack = await startQueryStack({ config: { leaseTtlMs: LEASE_TTL_MS, statementTimeoutMs: 1500 } });
});

afterAll(async () => {
  await stack.stop();
});

test("a SIGKILLed host's query is redelivered and runs once its leases lapse", async () => {
  const t = stack.tenant("crash");
  await seed(stack.warehouse, t, sampleEvents(t, 80));
  const port = await freePort();
  const child = Bun.spawn(
    [process.execPath, fileURLToPath(new URL("../../actors/main.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: stack.databaseUrl,
        DATABASE_POOL_MAX: "2",
        UPSTASH_REDIS_REST_URL: stack.bridge.url,
        UPSTASH_REDIS_REST_TOKEN: stack.bridgeToken,
        QSTASH_URL: stack.broker.url,
        QUERY_LEASE_TTL_MS: String(LEASE_TTL_MS),
        QUERY_STATEMENT_TIMEOUT_MS: "1500",
        WAREHOUSE_SEMAPHORE_KEY: stack.config.warehouseKeys?.semaphore,
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const reader = child.stdout.getReader();
  let banner = "";
  while (!banner.includes("actors ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`actors host exited: ${await new Response(child.stderr).text()}`);
    banner += new TextDecoder().decode(value);
  }

  // The query blocks on a lock, so the child is mid-run when it dies.
  const locker = await stack.warehouse.sql.reserve();
  await locker`begin`;
  await locker`lock table ad_rollup_day in access exclusive mode`;
  const replacementWarehouse = openWarehouse(stack.databaseUrl, { max: 2 });
  let replacement: ReturnType<typeof serveActors> | undefined;
  const logs: LogLine[] = [];
  try {
    const query = { measures: ["clicks", "spend"] as ["clicks", "spend"], dimensions: ["ad" as const] };
    const job = await submit(
      { ...stack, target: { ...stack.target, actorsUrl: `http://127.0.0.1:${port}` } },
      t,
      query,
    );
    await waitUntil(
      "the child running the query",
      async () => (await statusOf(stack, t, job.queryId))?.status === "running",
    );
    expect(await stack.redis.zcard(keys.semaphore(t))).toBe(1);
    child.kill("SIGKILL");
    await child.exited;
    const killedAt = Date.now();
    await locker`rollback`;

    // Same URL, new process: QStash's retry of the dead delivery arrives here.
    replacement = serveActors({
      port,
      hostname: "127.0.0.1",
      actors: [createQueryActor(stack.config)],
      warehouse: replacementWarehouse,
      redis: stack.redis,
      qstash: new Client({ baseUrl: stack.broker.url, token: QSTASH_TOKEN, retry: false }),
      receiver: new Receiver({ currentSigningKey: SIGNING.current, nextSigningKey: SIGNING.next }),
      log: createLogger({}, (_level, line) => logs.push(JSON.parse(line))),
    });

    const event = await waitForCompletion(stack, t, job.queryId, 15_000);
    const finishedAfter = Date.now() - killedAt;
    expect(event.status).toBe("done");
    expect((await cachedResult(stack, t, job.hash))?.data).toEqual(
      await runDirectly(stack.warehouse, t, query, job.message.askedAt),
    );
    // The redelivery recognised its own chain's lease and waited for it instead of dropping the query…
    expect(
      logs.some((l) => l.message === "later" && String(l.reason).includes("still holds the query's lease")),
    ).toBe(true);
    // …which lapsed within the TTL of the dead run's last heartbeat, not much later.
    expect(finishedAfter).toBeLessThan(LEASE_TTL_MS + 2000);
    expect(Object.keys(await stack.redis.xrange(keys.done(t), "-", "+"))).toHaveLength(1);
    await waitUntil("permits back", async () => (await stack.redis.zcard(keys.semaphore(t))) === 0);
    expect(await stack.redis.zcard(stack.config.warehouseKeys?.semaphore as string)).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await locker`rollback`.catch(() => {});
    locker.release();
    await replacement?.stop(true);
    await replacementWarehouse.close();
  }
}, 30_000);

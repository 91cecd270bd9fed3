// The query actor end to end: publish → broker → actors host → permits → Postgres → cache + completion event,
// with real Redis (through the REST bridge), a real broker and a real (throwaway) warehouse.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newLeaseToken } from "../../actors/semaphore/semaphore.ts";
import { keys } from "../../src/domain/keys.ts";
import type { Query } from "../../src/domain/query/index.ts";
import {
  cachedResult,
  completions,
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

let stack: QueryStack;
let alpha: string;
let beta: string;

const byChannel: Query = {
  measures: ["impressions", "clicks", "spend", "ctr"],
  dimensions: ["channel", "campaign"],
  timeDimension: { granularity: "day", dateRange: ["2026-11-01", "2026-11-02"] },
  order: { clicks: "desc" },
  limit: 50,
};

beforeAll(async () => {
  stack = await startQueryStack();
  alpha = stack.tenant("alpha");
  beta = stack.tenant("beta");
  await seed(stack.warehouse, alpha, sampleEvents(alpha, 600, "alpha-c"));
  await seed(stack.warehouse, beta, sampleEvents(beta, 300, "beta-c"));
});

afterAll(async () => {
  await stack.stop();
});

describe("query actor", () => {
  test("a published job ends as a cached result equal to the same SQL run directly, and a completion event", async () => {
    const job = await submit(stack, alpha, byChannel);
    const event = await waitForCompletion(stack, alpha, job.queryId);
    const expected = await runDirectly(stack.warehouse, alpha, byChannel, job.message.askedAt);
    expect(expected.length).toBeGreaterThan(5);
    expect(event).toMatchObject({ queryId: job.queryId, status: "done", rowCount: String(expected.length) });

    const cached = await cachedResult(stack, alpha, job.hash);
    expect(cached?.data).toEqual(expected);
    expect(cached).toMatchObject({
      queryId: job.queryId,
      dataVersion: 0,
      columns: ["ts", "channel", "campaign", "impressions", "clicks", "spend", "ctr"],
    });
    expect(["raw", "rollup_minute", "rollup_hour", "rollup_day", "rollup_day_campaign"]).toContain(
      cached?.source as string,
    );
    expect(Object.keys(cached ?? {})[0]).toBe("dataVersion");

    const status = await statusOf(stack, alpha, job.queryId);
    expect(status).toMatchObject({ status: "done", rowCount: expected.length, hash: job.hash });
    expect(Number(status?.finishedAt)).toBeGreaterThan(0);
    expect(Number(status?.startedAt)).toBeGreaterThan(0);
    // The flight is over, the permits are back, the cache lives for TTL + stale grace.
    expect(await stack.redis.get(keys.inflight(alpha, job.hash))).toBeNull();
    expect(await stack.redis.zcard(keys.semaphore(alpha))).toBe(0);
    expect(await stack.redis.zcard(stack.config.warehouseKeys?.semaphore as string)).toBe(0);
    const ttl = await stack.redis.ttl(keys.cache(alpha, job.hash));
    expect(ttl).toBeGreaterThan(600);
    expect(ttl).toBeLessThanOrEqual(660);
  });

  test("a redelivered job that is already done is not run again", async () => {
    const job = await submit(stack, alpha, { ...byChannel, limit: 7 });
    await waitForCompletion(stack, alpha, job.queryId);
    const again = await fetchDelivery(job.message);
    expect(again).toEqual({ status: "finished" });
    await Bun.sleep(50);
    expect((await completions(stack, alpha)).filter((e) => e.queryId === job.queryId)).toHaveLength(1);
  });

  test("inside a tenant whose limit is 1, queries run in the order they were asked", async () => {
    const t = stack.tenant("fifo");
    await seed(stack.warehouse, t, sampleEvents(t, 60));
    await stack.redis.hset(keys.tenant(t), { concurrencyLimit: "1" });
    // Hold the tenant's only permit so every job is delivered and has to wait in the lane.
    const blocker = newLeaseToken();
    await stack.redis.zadd(keys.semaphore(t), { score: Date.now() + 60_000, member: blocker });
    const base = Date.now();
    const asked = [0, 1, 2, 3, 4].map((i) => base + i * 10);
    const jobs = [];
    // Published newest first, with parallelism 5 at the broker: only the lane can restore the order.
    for (const askedAt of [...asked].reverse()) {
      jobs.push(
        await submit(
          stack,
          t,
          { measures: ["clicks"], limit: 10 + askedAt - base },
          { askedAt, parallelism: 5 },
        ),
      );
    }
    await waitUntil(
      "all five waiting in the lane",
      async () => (await stack.redis.zcard(keys.lane(t))) === 5,
    );
    expect(await stack.redis.zrange(keys.lane(t), 0, -1)).toEqual([...jobs].reverse().map((j) => j.queryId));
    await stack.redis.zrem(keys.semaphore(t), blocker);
    for (const job of jobs) await waitForCompletion(stack, t, job.queryId);
    const order = (await completions(stack, t)).map((e) => e.queryId);
    expect(order).toEqual([...jobs].reverse().map((j) => j.queryId));
  });

  test("an invalid query becomes an error result at once, not a retry loop", async () => {
    const job = await submit(
      stack,
      alpha,
      { ...byChannel, limit: 3 },
      {
        rawQuery: { measures: ["clicks", "1; drop table ad_events"] },
        retries: 3,
      },
    );
    const event = await waitForCompletion(stack, alpha, job.queryId);
    expect(event.status).toBe("error");
    expect(event.error).toContain("measures");
    expect(await statusOf(stack, alpha, job.queryId)).toMatchObject({ status: "error" });
    expect(await stack.redis.get(keys.cache(alpha, job.hash))).toBeNull();
    await Bun.sleep(300); // a retry would have come back by now (12 s backoff × 0.01)
    expect((await completions(stack, alpha)).filter((e) => e.queryId === job.queryId)).toHaveLength(1);
    expect(stack.logs.filter((l) => l.message === "query refused" && l.queryId === job.queryId)).toHaveLength(
      1,
    );
  });

  test("a job whose hash is not its query's is refused (nothing cached under another question's key)", async () => {
    const other = await submit(stack, alpha, { measures: ["views"] }, { hash: "0".repeat(64) });
    const event = await waitForCompletion(stack, alpha, other.queryId);
    expect(event).toMatchObject({ status: "error", error: "The query does not match its hash" });
    expect(await stack.redis.get(keys.cache(alpha, "0".repeat(64)))).toBeNull();
  });

  test("a warehouse error (statement timeout) becomes an error result for every waiter", async () => {
    const slow = await startQueryStack({ config: { statementTimeoutMs: 300 } });
    try {
      const t = slow.tenant("slow");
      await seed(slow.warehouse, t, sampleEvents(t, 30));
      // An exclusive lock on the day rollups makes the query wait past its statement timeout.
      const locker = await slow.warehouse.sql.reserve();
      await locker`begin`;
      await locker`lock table ad_rollup_day, ad_rollup_day_campaign in access exclusive mode`;
      try {
        const job = await submit(slow, t, { measures: ["clicks"] }, { retries: 3 });
        const event = await waitForCompletion(slow, t, job.queryId);
        expect(event).toMatchObject({
          status: "error",
          error: "The query ran longer than 0.3 s and was stopped",
        });
        expect(await statusOf(slow, t, job.queryId)).toMatchObject({
          status: "error",
          error: "The query ran longer than 0.3 s and was stopped",
        });
        expect(await slow.redis.get(keys.inflight(t, job.hash))).toBeNull();
        expect(await slow.redis.zcard(keys.semaphore(t))).toBe(0);
      } finally {
        await locker`rollback`;
        locker.release();
      }
    } finally {
      await slow.stop();
    }
  });

  test("a warehouse that refuses connections is retried a few times, then every waiter gets an error", async () => {
    const down = await startQueryStack({ hostDatabaseUrl: "postgres://postgres@127.0.0.1:1/fairway_test" });
    try {
      const t = down.tenant("down");
      const job = await submit(down, t, { measures: ["clicks"] }, { retries: 5 });
      const event = await waitForCompletion(down, t, job.queryId, 15_000);
      expect(event).toMatchObject({
        status: "error",
        error: "The warehouse is unavailable; try again later",
      });
      const failures = down.logs.filter((l) => l.message === "query failed" && l.queryId === job.queryId);
      expect(failures.map((l) => [l.code, l.transient])).toEqual([
        ["ECONNREFUSED", true],
        ["ECONNREFUSED", true],
        ["ECONNREFUSED", true],
      ]);
      // Retries 1 and 2 answered 500 (spending two of five), the third delivery recorded the error.
      const retried = down.logs.filter((l) => l.message === "retry").map((l) => l.retried);
      expect(retried).toEqual([0, 1]);
      expect(await down.redis.zcard(keys.semaphore(t))).toBe(0);
    } finally {
      await down.stop();
    }
  }, 30_000);

  test("an older data version's result never replaces a newer one in the cache", async () => {
    const t = stack.tenant("versions");
    await seed(stack.warehouse, t, sampleEvents(t, 40));
    const query: Query = { measures: ["impressions"], dimensions: ["country"] };
    const newer = {
      queryId: "qnewer",
      dataVersion: 5,
      computedAt: 1,
      durationMs: 1,
      source: "day",
      columns: [],
      data: [],
    };
    const first = await submit(stack, t, query, { dataVersion: 3 });
    await stack.redis.set(keys.cache(t, first.hash), JSON.stringify(newer));
    const event = await waitForCompletion(stack, t, first.queryId);
    expect(event.status).toBe("done"); // its waiters are told, and find the newer answer
    expect((await cachedResult(stack, t, first.hash))?.queryId).toBe("qnewer");

    // A result for a version at least as new does replace the entry.
    await stack.redis.set(keys.cache(t, first.hash), JSON.stringify({ ...newer, dataVersion: 2 }));
    const second = await submit(stack, t, query, { dataVersion: 3 });
    await waitForCompletion(stack, t, second.queryId);
    const cached = await cachedResult(stack, t, first.hash);
    expect(cached?.queryId).toBe(second.queryId);
    expect(cached?.data).toEqual(await runDirectly(stack.warehouse, t, query, second.message.askedAt));
  });

  test("trust boundary: the signed tenant id decides whose rows are read, whatever the query says", async () => {
    // Beta's own question, and a query naming beta's campaign, published for alpha: alpha's rows only.
    const hunting: Query = {
      measures: ["clicks", "impressions"],
      dimensions: ["campaign"],
      filters: [{ member: "campaign", operator: "in", values: ["beta-c0", "beta-c1", "alpha-c0"] }],
    };
    const job = await submit(stack, alpha, hunting);
    await waitForCompletion(stack, alpha, job.queryId);
    const cached = await cachedResult(stack, alpha, job.hash);
    expect(cached?.data).toEqual(await runDirectly(stack.warehouse, alpha, hunting, job.message.askedAt));
    expect(cached?.data.map((row) => row.campaign)).toEqual(["alpha-c0"]);
    // Beta does have those rows: the same question for beta finds them.
    expect((await runDirectly(stack.warehouse, beta, hunting, job.message.askedAt)).length).toBe(2);
    expect(await stack.redis.get(keys.cache(beta, job.hash))).toBeNull();

    // A tenant field smuggled into the query is refused by the strict schema, not obeyed.
    const smuggled = await submit(stack, alpha, hunting, { rawQuery: { ...hunting, tenantId: beta } });
    const event = await waitForCompletion(stack, alpha, smuggled.queryId);
    expect(event.status).toBe("error");
    expect(event.error).toContain("tenantId");
    // SQL in a value is a bound parameter: it matches nothing.
    const injected: Query = {
      measures: ["clicks"],
      dimensions: ["campaign"],
      filters: [{ member: "campaign", operator: "equals", values: [`x' or tenant_id = '${beta}' --`] }],
    };
    const third = await submit(stack, alpha, injected);
    await waitForCompletion(stack, alpha, third.queryId);
    expect((await cachedResult(stack, alpha, third.hash))?.data).toEqual([]);
  });

  test("a query that waited past the hold time parks, and the release that frees a permit wakes it at once", async () => {
    // The broker runs at a tenth of real time here, so the later re-dispatch comes back after 4.5–7.5 s:
    // a completion well within that, by the woken delivery's own chain, is the wake's doing.
    const parking = await startQueryStack({ config: { holdMs: 50, parkDelayMs: 60_000 }, timeScale: 0.1 });
    try {
      const t = parking.tenant("park");
      await seed(parking.warehouse, t, sampleEvents(t, 30));
      await parking.redis.hset(keys.tenant(t), { concurrencyLimit: "1" });
      const blocker = newLeaseToken();
      await parking.redis.zadd(keys.semaphore(t), { score: Date.now() + 60_000, member: blocker });
      const job = await submit(parking, t, { measures: ["clicks"] });
      // The park mark is written before the delivery's last attempt and its re-dispatch, so wait for the
      // `later` it answers with, then check the mark is still there for the release to find.
      await waitUntil("the delivery answered later", () =>
        parking.logs.some(
          (l) => l.message === "later" && String(l.reason).startsWith("waiting for a tenant"),
        ),
      );
      expect(await parking.redis.hget(keys.laneParked(t), job.queryId)).not.toBeNull();
      // Free the permit the way a finishing query does: release + wake.
      const { PermitGate } = await import("../../actors/lanes/permits.ts");
      const { permitSettings } = await import("../../actors/query/config.ts");
      const gate = new PermitGate(parking.redis, permitSettings(parking.config, 3600));
      const wakes = await gate.release({ tenantId: t, token: blocker, tenantLimit: 1 });
      expect(wakes.map((w) => w.queryId)).toEqual([job.queryId]);
      const released = Date.now();
      const published: string[] = [];
      for (const wake of wakes) {
        const { messageId } = await parking.target.client.publish({
          url: `${parking.host.publicUrl}/actors/query`,
          body: wake.body,
          headers: { "Content-Type": "application/json" },
        });
        published.push(messageId);
      }
      await waitForCompletion(parking, t, job.queryId);
      expect(Date.now() - released).toBeLessThan(1_500);
      // Run by the woken delivery (a chain of its own), not by the parked delivery's later re-dispatch.
      expect((await statusOf(parking, t, job.queryId))?.runnerChain).toBe(published[0]);
    } finally {
      await parking.stop();
    }
  });
});

/** Posts the job to the host as the broker would (a fresh message id), and returns the handler's answer. */
async function fetchDelivery(message: unknown): Promise<unknown> {
  const { signDelivery } = await import("./support.ts");
  const body = JSON.stringify(message);
  const url = `${stack.host.publicUrl}/actors/query`;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Upstash-Message-Id": `msg_${crypto.randomUUID()}`,
      "Upstash-Retried": "0",
      "Upstash-Signature": await signDelivery({ url, body }),
    },
    body,
  });
  return response.json();
}

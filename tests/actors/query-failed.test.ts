// A query message that dies (retries or `later` re-dispatches spent, so QStash puts it in the DLQ) still
// answers its waiters: the failure callback reaches the `query-failed` actor, which records an `error`
// outcome and frees the single-flight key. Real broker, real actors host, real Redis.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { recordOutcome } from "../../actors/query/outcome-record.ts";
import { createQueryActor } from "../../actors/query.ts";
import { deadQueryError, queryFailedActor } from "../../actors/query-failed.ts";
import { newLeaseToken } from "../../actors/semaphore/semaphore.ts";
import { keys } from "../../src/domain/keys.ts";
import { parseQuery, type Query, queryHash } from "../../src/domain/query/index.ts";
import {
  QUERY_FAILED_ACTOR,
  QUERY_STATUS_TTL_SECONDS,
  type QueryJobMessage,
} from "../../src/domain/query-jobs.ts";
import { freePort } from "../../src/local/services/ports.ts";
import { publishToActor } from "../../src/publisher/index.ts";
import {
  completions,
  type QueryStack,
  startQueryStack,
  statusOf,
  waitForCompletion,
  waitUntil,
} from "./query-support.ts";

const MAX_LATER = 1;
let stack: QueryStack;

beforeAll(async () => {
  // The host's warehouse refuses every connection, so every run fails with a transient error.
  const nowhere = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
  stack = await startQueryStack({
    hostDatabaseUrl: nowhere,
    config: { transientRetries: 10, holdMs: 20 },
    actors: (config) => [{ ...createQueryActor(config), maxLater: MAX_LATER }, queryFailedActor],
  });
});

afterAll(async () => {
  await stack.stop();
});

let sequence = 0;

/** What the edge does for a cache miss: status `queued`, single-flight key, publish with the failure callback. */
async function submit(tenantId: string, query: Query, retries: number) {
  const askedAt = Date.now();
  const parsed = parseQuery(query, { now: askedAt });
  if (!parsed.ok) throw new Error(`test query invalid: ${JSON.stringify(parsed.errors)}`);
  const { hash, canonical } = await queryHash(parsed.query, askedAt);
  const queryId = `qf${++sequence}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const message: QueryJobMessage = {
    queryId,
    tenantId,
    hash,
    dataVersion: 0,
    query: canonical,
    askedAt,
    cacheTtlSeconds: 60,
    staleGraceSeconds: 0,
  };
  await stack.redis.set(keys.inflight(tenantId, hash), queryId, { ex: 600 });
  await stack.redis.hset(keys.query(tenantId, queryId), {
    status: "queued",
    hash,
    dataVersion: 0,
    createdAt: askedAt,
  });
  await stack.redis.expire(keys.query(tenantId, queryId), QUERY_STATUS_TTL_SECONDS);
  await publishToActor(stack.target, {
    actor: "query",
    body: message,
    flowControl: { key: tenantId, parallelism: 2 },
    deduplicationId: queryId,
    retries,
    failureCallback: QUERY_FAILED_ACTOR,
  });
  return message;
}

/** Delivers a failure callback for `message` the way QStash would (through the broker, signed). */
async function publishCallback(message: QueryJobMessage, retried: number) {
  await publishToActor(stack.target, {
    actor: QUERY_FAILED_ACTOR,
    body: {
      status: 500,
      body: btoa('{"error":"boom"}'),
      sourceMessageId: `msg_${crypto.randomUUID()}`,
      sourceBody: btoa(JSON.stringify(message)),
      retried,
      maxRetries: retried,
    },
  });
}

function logged(message: string, queryId: string): number {
  return stack.logs.filter((line) => line.message === message && line.queryId === queryId).length;
}

describe("a query whose message dies", () => {
  test("spent retries: an error completion event, status error, the flight freed", async () => {
    const t = stack.tenant("retries");
    const job = await submit(t, { measures: ["clicks"], limit: 3 }, 1);
    const event = await waitForCompletion(stack, t, job.queryId);
    expect(event).toMatchObject({ queryId: job.queryId, status: "error", error: deadQueryError(2) });
    expect(event.error).toBe("The query could not be run: it failed 2 times");
    expect(await statusOf(stack, t, job.queryId)).toMatchObject({
      status: "error",
      error: deadQueryError(2),
    });
    expect(await stack.redis.get(keys.inflight(t, job.hash))).toBeNull();
    expect(await stack.redis.get(keys.cache(t, job.hash))).toBeNull();
    // Both attempts reached the warehouse and were answered 500 before the message was given up.
    expect(
      stack.logs.filter((l) => l.message === "retry" && l.actor === "query").length,
    ).toBeGreaterThanOrEqual(2);
  });

  test("spent `later` re-dispatches: the re-dispatched message keeps the failure callback", async () => {
    const t = stack.tenant("parked");
    // Hold the tenant's permits so the query parks on every delivery until it runs out of re-dispatches.
    await stack.redis.hset(keys.tenant(t), { concurrencyLimit: "1" });
    await stack.redis.zadd(keys.semaphore(t), { score: Date.now() + 60_000, member: newLeaseToken() });
    const job = await submit(t, { measures: ["impressions"], limit: 4 }, 0);
    const event = await waitForCompletion(stack, t, job.queryId);
    expect(event).toMatchObject({ queryId: job.queryId, status: "error", error: deadQueryError(1) });
    expect(await statusOf(stack, t, job.queryId)).toMatchObject({ status: "error" });
    expect(await stack.redis.get(keys.inflight(t, job.hash))).toBeNull();
    // It is out of the lane, so it no longer holds a place ahead of later queries.
    expect(await stack.redis.zscore(keys.lane(t), job.queryId)).toBeNull();
    expect(stack.logs.some((l) => l.message === "later limit reached")).toBe(true);
  });

  test("a redelivered callback changes nothing: one error event", async () => {
    const t = stack.tenant("again");
    const job = await submit(t, { measures: ["spend"], limit: 5 }, 0);
    await waitForCompletion(stack, t, job.queryId);
    const before = await statusOf(stack, t, job.queryId);
    await publishCallback(job, 0);
    await waitUntil(
      "the second callback handled",
      () => logged("dead query was already finished", job.queryId) === 1,
    );
    expect((await completions(stack, t)).filter((e) => e.queryId === job.queryId)).toHaveLength(1);
    expect(await statusOf(stack, t, job.queryId)).toEqual(before);
  });

  test("a callback for a query already done changes nothing, and leaves a newer flight alone", async () => {
    const t = stack.tenant("done");
    const askedAt = Date.now();
    const hash = "ab".repeat(32);
    const job: QueryJobMessage = {
      queryId: `qdone${crypto.randomUUID().slice(0, 8)}`,
      tenantId: t,
      hash,
      dataVersion: 0,
      query: { measures: ["clicks"] },
      askedAt,
      cacheTtlSeconds: 60,
      staleGraceSeconds: 0,
    };
    await stack.redis.hset(keys.query(t, job.queryId), {
      status: "queued",
      hash,
      dataVersion: 0,
      createdAt: askedAt,
    });
    await recordOutcome(stack.redis, job, {
      status: "done",
      result: {
        queryId: job.queryId,
        dataVersion: 0,
        computedAt: askedAt,
        durationMs: 1,
        source: "raw",
        columns: ["clicks"],
        data: [{ clicks: 3 }],
      },
    });
    // A newer flight for the same question has started since.
    await stack.redis.set(keys.inflight(t, hash), "qnewer", { ex: 600 });
    const status = await statusOf(stack, t, job.queryId);
    const cache = await stack.redis.get(keys.cache(t, hash));
    const events = await completions(stack, t);

    await publishCallback(job, 3);
    await waitUntil(
      "the callback handled",
      () => logged("dead query was already finished", job.queryId) === 1,
    );
    expect(await statusOf(stack, t, job.queryId)).toEqual(status);
    expect(await stack.redis.get(keys.cache(t, hash))).toEqual(cache);
    expect(await completions(stack, t)).toEqual(events);
    expect(await stack.redis.get(keys.inflight(t, hash))).toBe("qnewer");
  });

  test("a callback that does not carry a query message is refused, naming the field", async () => {
    const t = stack.tenant("junk");
    await publishToActor(stack.target, {
      actor: QUERY_FAILED_ACTOR,
      body: {
        status: 500,
        body: "",
        sourceMessageId: `msg_${t}`,
        sourceBody: btoa('{"queryId":"x"}'),
        retried: 0,
      },
    });
    await waitUntil("the refusal logged", () =>
      stack.logs.some(
        (l) => l.message === "failure callback without a query message" && l.sourceMessageId === `msg_${t}`,
      ),
    );
    const line = stack.logs.find((l) => l.sourceMessageId === `msg_${t}`);
    expect(String(line?.error)).toContain('field "sourceBody"');
  });
});

// What the edge shows from the recorded figures: /v1/stats for the tenant itself, /metrics in Prometheus text
// for the operator; query timing and cache outcomes; alert transitions once per crossing under concurrency.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@upstash/qstash";
import { Hono } from "hono";
import { lookAtBroker } from "../../actors/monitor/broker.ts";
import { keys } from "../../src/domain/keys.ts";
import { applyConditions, evaluateRules, readAlerts } from "../../src/domain/monitoring/alerts.ts";
import { collectSnapshot } from "../../src/domain/monitoring/collect.ts";
import { bucketOf, LATENCY_BOUNDS_MS, percentilesOf } from "../../src/domain/monitoring/histogram.ts";
import type { EdgeEnv } from "../../src/edge/context.ts";
import { observeQueries, queryMeterFor } from "../../src/edge/routes/stats.ts";
import { QSTASH_TOKEN } from "../actors/support.ts";
import { type ImportStack, makeCsv, startImportStack } from "../imports/support.ts";

let stack: ImportStack;
let tenant: { id: string; apiKey: string };

beforeAll(async () => {
  stack = await startImportStack();
  tenant = await stack.createTenant();
  const { text } = makeCsv(2_000, 100, 2);
  expect((await stack.upload(text, tenant.apiKey, { importId: "m-1" })).status).toBe(202);
  await stack.waitForImport("m-1", tenant.apiKey);
});

afterAll(async () => {
  await stack.stop();
});

/** Every sample line `name{labels} value`, every family introduced by HELP and TYPE and kept together. */
function checkExposition(text: string): Map<string, string[]> {
  const families = new Map<string, string[]>();
  let current = "";
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP (\w+) .+$/.exec(line);
    if (help) {
      expect(families.has(help[1] as string)).toBe(false);
      current = help[1] as string;
      families.set(current, []);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      expect(line).toMatch(new RegExp(`^# TYPE ${current} (gauge|counter)$`));
      continue;
    }
    expect(line).toMatch(/^(\w+)(\{(\w+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$/);
    expect(line.split(/[{ ]/)[0]).toBe(current);
    families.get(current)?.push(line);
  }
  return families;
}

describe("reading the figures", () => {
  test("/v1/stats: the tenant's import queue, its outcomes and latencies, its semaphore", async () => {
    await stack.redis.zadd(keys.semaphore(tenant.id), { score: Date.now() + 60_000, member: "lease-a" });
    const response = await stack.request("/v1/stats", { key: tenant.apiKey });
    expect(response.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary fields
    const stats = (await response.json()) as Record<string, any>;
    const queue = (stats.queues as { actor: string }[]).find((lane) => lane.actor === "import") as Record<
      string,
      unknown
    >;
    expect(queue).toMatchObject({ actor: "import", depth: 0, inFlight: 0, dlq: 0, oldestAgeSeconds: null });
    // The 2,000 rows (four chunks) travel in one message, then the seal.
    expect((queue.handlerMs as { count: number }).count).toBe(2);
    expect((queue.queueMs as { count: number }).count).toBe(2);
    expect(stats.semaphore).toEqual({ held: 1, limit: 4 });
    expect(JSON.stringify(stats)).not.toContain(stack.namespace); // nothing of other tenants or the stack
  });

  test("/metrics: Prometheus text behind the operator token, with this tenant's counters", async () => {
    expect((await stack.request("/metrics")).status).toBe(401);
    const response = await stack.request("/metrics", { key: stack.operatorToken });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const families = checkExposition(await response.text());
    const lane = `actor="import",tenant="${tenant.id}"`;
    expect(families.get("fairway_queue_depth")).toContain(`fairway_queue_depth{${lane}} 0`);
    expect(families.get("fairway_deliveries_total")).toContain(
      `fairway_deliveries_total{tenant="${tenant.id}",actor="import",outcome="ok"} 2`,
    );
    expect(families.get("fairway_published_total")).toContain(
      `fairway_published_total{tenant="${tenant.id}",actor="import"} 2`,
    );
    expect(families.get("fairway_imports_total")).toContain(
      `fairway_imports_total{tenant="${tenant.id}",status="completed_with_errors"} 1`,
    );
  });

  test("a delayed message is pending from its publish, and ages from when it is due", async () => {
    const publisher = stack.services.publisher;
    if (!publisher) throw new Error("no publisher");
    // An ingest batch delayed by an hour: pending, but not due yet, so its age is 0 until then.
    const event = {
      id: "late-1",
      ts: new Date().toISOString(),
      kind: "click",
      channel: "google",
      campaign: "c",
      ad: "a",
      country: "US",
      city: "Austin",
      cost: "0",
      revenue: "0",
    };
    await publisher.publish({
      actor: "ingest",
      body: { tenantId: tenant.id, batchId: `b_${"0".repeat(32)}`, events: [event as never] },
      delay: "1h",
    });
    await Bun.sleep(100);
    const snapshot = await collectSnapshot(stack.redis, { tenants: [tenant.id] });
    expect(snapshot.lanes.find((lane) => lane.actor === "ingest")).toMatchObject({
      depth: 1,
      oldestAgeSeconds: 0,
    });
    const later = await collectSnapshot(stack.redis, { tenants: [tenant.id], now: Date.now() + 3_700_000 });
    expect(later.lanes.find((lane) => lane.actor === "ingest")?.oldestAgeSeconds).toBeGreaterThanOrEqual(99);
  });
});

describe("the broker's dead-letter queue", () => {
  test("a message the actor refuses is counted in its lane's DLQ and leaves the pending set", async () => {
    const publisher = stack.services.publisher;
    if (!publisher) throw new Error("no publisher");
    // Not a valid import message: the host refuses it (489) before any handler runs, straight to the DLQ.
    await publisher.publishRaw("import", JSON.stringify({ tenantId: tenant.id, kind: "chunk" }));
    const client = new Client({ baseUrl: stack.broker.url, token: QSTASH_TOKEN });
    const deadline = Date.now() + 10_000;
    while ((await client.dlq.listMessages()).messages.length === 0) {
      if (Date.now() > deadline) throw new Error("the message never reached the DLQ");
      await Bun.sleep(20);
    }
    const before = await collectSnapshot(stack.redis, { tenants: [tenant.id] });
    expect(before.lanes.find((lane) => lane.actor === "import")?.depth).toBe(1);
    const view = await lookAtBroker(client, stack.redis as never, { namespace: stack.namespace });
    expect(view.dlq).toEqual({ [`import|${tenant.id}`]: 1 });
    const after = await collectSnapshot(stack.redis, { tenants: [tenant.id], namespace: stack.namespace });
    expect(after.lanes.find((lane) => lane.actor === "import")).toMatchObject({ depth: 0, dlq: 1 });
    expect(after.broker?.dlqTotal).toBe(1);
    const rules = evaluateRules(
      { ...after, tenants: after.tenants.map((stats) => ({ ...stats, importsFailed: 1 })) },
      {
        depth: 10,
        oldestAgeSeconds: 60,
        dlqGrowth: 1,
        dlqWindowMinutes: 15,
        importFailures: 1,
        importWindowMinutes: 60,
      },
      0,
    );
    expect(rules.filter((rule) => rule.firing).map((rule) => rule.id)).toEqual([
      "dlq_growth",
      `import_failures:${tenant.id}`,
    ]);
  });
});

describe("queries at the edge", () => {
  test("each POST /v1/queries is timed and its cache outcome counted", async () => {
    const app = new Hono<EdgeEnv>();
    app.use("/v1/queries", observeQueries(stack.services));
    app.post("/v1/queries", async (c) => {
      c.set("tenant", { id: tenant.id } as never);
      const outcome = c.req.query("outcome");
      if (outcome === "pending") return c.json({ id: "q", status: "queued" }, 202);
      // The query routes name how they served a result on the context, as this stand-in does.
      c.set("cacheOutcome", outcome as "hit" | "miss");
      return c.json({ data: [], meta: { cache: outcome } });
    });
    for (const outcome of ["hit", "hit", "hit", "miss", "pending"]) {
      expect((await app.request(`/v1/queries?outcome=${outcome}`, { method: "POST" })).status).toBeLessThan(
        300,
      );
    }
    await queryMeterFor(stack.services).flush();
    const snapshot = await collectSnapshot(stack.redis, { tenants: [tenant.id] });
    expect(snapshot.tenants[0]?.cache).toEqual({ hits: 3, misses: 2, stale: 0, hitRatio: 0.6 });
    expect(snapshot.tenants[0]?.queryMs.count).toBe(5);
  });
});

describe("alert transitions", () => {
  test("two monitors judging at once announce a crossing once; a vanished subject clears", async () => {
    const scope = { namespace: `${stack.namespace}-t` };
    const snapshot = {
      at: Date.now(),
      lanes: [
        {
          actor: "import",
          tenantId: "x",
          depth: 50,
          oldestAgeSeconds: 1,
          inFlight: 0,
          dlq: 0,
          lastMinute: {
            published: 0,
            deliveries: 0,
            failures: 0,
            ok: 0,
            retry: 0,
            fail: 0,
            later: 0,
            error: 0,
          },
          handlerMs: { count: 0, p50: null, p95: null, p99: null },
          queueMs: { count: 0, p50: null, p95: null, p99: null },
        },
      ],
      tenants: [],
      warehouse: { held: 0 },
      broker: { checkedAt: Date.now(), dlqTotal: 3, dlq: {} },
      silent: [],
    };
    const thresholds = {
      depth: 10,
      oldestAgeSeconds: 60,
      dlqGrowth: 1,
      dlqWindowMinutes: 15,
      importFailures: 1,
      importWindowMinutes: 60,
    };
    const conditions = evaluateRules(snapshot, thresholds, 1);
    expect(conditions.filter((condition) => condition.firing).map((condition) => condition.id)).toEqual([
      "queue_depth:import:x",
      "dlq_growth",
    ]);
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => applyConditions(stack.redis, conditions, scope)),
    );
    expect(
      runs
        .flat()
        .map((t) => `${t.change} ${t.condition.id}`)
        .sort(),
    ).toEqual(["fired dlq_growth", "fired queue_depth:import:x"]);
    expect(await applyConditions(stack.redis, conditions, scope)).toEqual([]);
    const drained = evaluateRules({ ...snapshot, lanes: [] }, thresholds, 3);
    const cleared = await applyConditions(stack.redis, drained, scope);
    expect(cleared.map((t) => `${t.change} ${t.condition.id} ${t.seq}`).sort()).toEqual([
      "cleared dlq_growth 1",
      "cleared queue_depth:import:x 1",
    ]);
    const again = await applyConditions(stack.redis, conditions, scope);
    expect(again.map((t) => t.seq)).toEqual([2, 2]);
    expect([...(await readAlerts(stack.redis, scope)).values()].every((state) => state.firing)).toBe(true);
    await stack.redis.del(`fw:alerts:${scope.namespace}`);
  });
});

describe("histograms", () => {
  test("buckets and percentiles", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(5)).toBe(0);
    expect(bucketOf(6)).toBe(1);
    expect(bucketOf(10 ** 9)).toBe(LATENCY_BOUNDS_MS.length);
    const counts = new Map([
      [bucketOf(3), 90],
      [bucketOf(80), 9],
      [bucketOf(4000), 1],
    ]);
    expect(percentilesOf(counts)).toEqual({ count: 100, p50: 5, p95: 100, p99: 100 });
    expect(percentilesOf(new Map()).p50).toBeNull();
  });
});

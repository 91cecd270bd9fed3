// Reconciliation against real Postgres and Redis: zero drift after normal ingestion, the right counts after
// tampering with rollups and leaderboards, and `npm run reconcile -- --repair` brings it back to zero.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { batchIdFor, type IngestEvent } from "../../src/domain/events/index.ts";
import { keys } from "../../src/domain/keys.ts";
import { epochMinute, oldestLiveMinute } from "../../src/domain/leaderboard/index.ts";
import { MINUTE_ROLLUP_DAYS } from "../../src/domain/query/index.ts";
import { PartitionCache, pendingOutbox, storeBatch } from "../../src/warehouse/ingest.ts";
import {
  checkRollups,
  type Drift,
  driftCount,
  type ReconcileRange,
  reconcileLeaderboards,
} from "../../src/warehouse/reconcile.ts";
import { type IngestStack, startIngestStack } from "../actors/ingest-stack.ts";
import { deliver } from "../actors/support.ts";
import { REPO_ROOT } from "../edge/support/stack.ts";
import { makeEvents } from "../events/support.ts";

let stack: IngestStack;

beforeAll(async () => {
  stack = await startIngestStack("reconcile");
});

afterAll(async () => {
  await stack?.close();
});

const now = Date.now();
const today = new Date(now).toISOString().slice(0, 10);
// Before the minute rollup's window: folded into every rollup but that one, which reconciliation leaves out there.
const historyDay = now - (MINUTE_ROLLUP_DAYS + 3) * 86_400_000;
const firstDay = new Date(historyDay).toISOString().slice(0, 10);

/** A tenant with a day of history and events over three recent days, the last twenty minutes live in Redis. */
async function ingestedTenant(
  label: string,
): Promise<{ tenantId: string; range: ReconcileRange; events: IngestEvent[] }> {
  const tenantId = stack.tenant(label);
  const events = [
    ...makeEvents(100, { from: historyDay, to: historyDay + 3600_000, seed: 20, idPrefix: "history" }),
    ...makeEvents(400, { from: now - 3 * 86_400_000, to: now - 86_400_000, seed: 21, idPrefix: "old" }),
    ...makeEvents(600, { from: now - 20 * 60_000, to: now, seed: 22, idPrefix: "live" }),
  ];
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    const body = JSON.stringify({ tenantId, batchId: await batchIdFor(tenantId, batch), events: batch });
    const response = await deliver(stack.host, "ingest", { body });
    expect(response.status).toBe(200);
  }
  return { tenantId, range: { tenantId, from: firstDay, to: today }, events };
}

async function totalDrift(range: ReconcileRange): Promise<Record<string, number>> {
  const rollups = await checkRollups(stack.warehouse.wh.sql, range);
  const { drifts } = await reconcileLeaderboards(
    stack.warehouse.wh.db,
    stack.warehouse.wh.sql,
    stack.redis,
    range,
  );
  return Object.fromEntries([...rollups, ...drifts].map((d) => [d.target, driftCount(d)]));
}

/** The CLI as a child process (asynchronously: the Redis bridge it talks to runs in this process). */
async function runCli(args: string[]) {
  const child = Bun.spawn([process.execPath, "src/cli/reconcile.ts", ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: stack.warehouse.url,
      UPSTASH_REDIS_REST_URL: stack.bridge.url,
      UPSTASH_REDIS_REST_TOKEN: stack.token,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, out, err };
}

const CLEAN = {
  ad_rollup_minute: 0,
  ad_rollup_hour: 0,
  ad_rollup_day: 0,
  ad_rollup_day_campaign: 0,
  "leaderboard:clicks": 0,
  "leaderboard:impressions": 0,
  "leaderboard:conversions": 0,
  "leaderboard:spend": 0,
};

describe("reconcile", () => {
  test("zero drift after normal ingestion (rollups and leaderboards)", async () => {
    const { range } = await ingestedTenant("clean");
    expect(await totalDrift(range)).toEqual(CLEAN);
    const [minute] = (await checkRollups(stack.warehouse.wh.sql, range)) as [Drift];
    expect(minute.expected).toBeGreaterThan(100);
    expect(minute.stored).toBe(minute.expected);
  });

  test("a tally still in the outbox is applied first, not reported as drift", async () => {
    const tenantId = stack.tenant("outbox");
    const events = makeEvents(100, { from: now - 5 * 60_000, to: now, seed: 23 });
    await storeBatch(
      stack.warehouse.wh.db,
      new PartitionCache(),
      tenantId,
      events.map((e) => ({ ...e, eventId: e.id, ts: new Date(e.ts) })),
      {
        attemptId: crypto.randomUUID(),
        batchId: await batchIdFor(tenantId, events),
        since: new Date(oldestLiveMinute(now) * 60_000),
      },
    );
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toHaveLength(1);
    expect(await totalDrift({ tenantId, from: today, to: today })).toEqual(CLEAN);
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toEqual([]);
  });

  test("tampering is reported per table and kind; the CLI exits 1, --repair fixes it and exits 0", async () => {
    const { tenantId, range, events } = await ingestedTenant("tampered");
    const sql = stack.warehouse.wh.sql;
    // One hour row off by a click, one minute row gone, one day row that no event explains.
    await sql`UPDATE ad_rollup_hour SET clicks = clicks + 1 WHERE ctid = (
      SELECT ctid FROM ad_rollup_hour WHERE tenant_id = ${tenantId} LIMIT 1)`;
    // (ctid is per partition, so the minute row is deleted by its key.)
    const [gone] = await sql`SELECT bucket, channel, campaign, ad, country, city FROM ad_rollup_minute
      WHERE tenant_id = ${tenantId} ORDER BY bucket LIMIT 1`;
    const deleted =
      await sql`DELETE FROM ad_rollup_minute WHERE tenant_id = ${tenantId} AND bucket = ${gone?.bucket}
      AND channel = ${gone?.channel} AND campaign = ${gone?.campaign} AND ad = ${gone?.ad}
      AND country = ${gone?.country} AND city = ${gone?.city}`;
    expect(deleted.count).toBe(1);
    await sql`INSERT INTO ad_rollup_day (tenant_id, bucket, channel, campaign, ad, country, city, clicks)
      VALUES (${tenantId}, ${`${today}T00:00:00Z`}, 'ghost', 'ghost', 'ghost', 'XX', 'ghost', 5)`;
    // One campaign-level day row whose spend no longer matches its events.
    const campaignRows = await sql`UPDATE ad_rollup_day_campaign SET spend = spend + 1 WHERE ctid = (
      SELECT ctid FROM ad_rollup_day_campaign WHERE tenant_id = ${tenantId} LIMIT 1)`;
    expect(campaignRows.count).toBe(1);
    // A leaderboard entry inflated, one invented, one set deleted.
    const liveClick = events.find(
      (e) => e.kind === "click" && Date.parse(e.ts) > now - 10 * 60_000,
    ) as IngestEvent;
    const clickSet = keys.top(tenantId, "clicks", epochMinute(Date.parse(liveClick.ts)));
    await stack.redis.zincrby(clickSet, 3, liveClick.ad);
    await stack.redis.zadd(clickSet, { score: 9, member: "ghost-ad" });
    const liveImpression = events.find(
      (e) => e.kind === "impression" && Date.parse(e.ts) > now - 10 * 60_000,
    ) as IngestEvent;
    await stack.redis.del(keys.top(tenantId, "impressions", epochMinute(Date.parse(liveImpression.ts))));
    // A conversions snapshot that no longer matches its set.
    const liveConversion = events.find(
      (e) => e.kind === "conversion" && Date.parse(e.ts) > now - 10 * 60_000,
    ) as IngestEvent;
    await stack.redis.set(
      keys.topSnapshot(tenantId, "conversions", epochMinute(Date.parse(liveConversion.ts))),
      "[]",
      {
        ex: 3600,
      },
    );

    const rollups = await checkRollups(sql, range);
    expect(
      rollups.map(({ target, missing, extra, different }) => ({ target, missing, extra, different })),
    ).toEqual([
      { target: "ad_rollup_minute", missing: 1, extra: 0, different: 0 },
      { target: "ad_rollup_hour", missing: 0, extra: 0, different: 1 },
      { target: "ad_rollup_day", missing: 0, extra: 1, different: 0 },
      { target: "ad_rollup_day_campaign", missing: 0, extra: 0, different: 1 },
    ]);
    expect(rollups[2]?.samples[0]).toMatchObject({
      key: { ad: "ghost" },
      expected: null,
      stored: { clicks: 5 },
    });
    expect(Object.keys(rollups[3]?.samples[0]?.key ?? {}).sort()).toEqual([
      "bucket",
      "campaign",
      "channel",
      "country",
    ]);
    const { drifts } = await reconcileLeaderboards(stack.warehouse.wh.db, sql, stack.redis, range);
    const clicks = drifts.find((d) => d.target === "leaderboard:clicks");
    expect(clicks).toMatchObject({ missing: 0, extra: 1, different: 1 });
    expect(drifts.find((d) => d.target === "leaderboard:impressions")?.missing).toBeGreaterThan(0);
    expect(drifts.find((d) => d.target === "leaderboard:conversions")).toMatchObject({
      different: 1,
      missing: 0,
    });

    const args = ["--tenant", tenantId, "--from", firstDay, "--to", today];
    const found = await runCli(args);
    expect(found.code).toBe(1);
    expect(found.out).toContain(
      "drift in ad_rollup_minute, ad_rollup_hour, ad_rollup_day, ad_rollup_day_campaign, leaderboard:clicks",
    );

    const repaired = await runCli([...args, "--repair"]);
    expect(repaired.err).toBe("");
    expect(repaired.code).toBe(0);
    expect(repaired.out).toContain("repaired: 4 rollup rows");
    expect(repaired.out).toContain("no drift");

    expect(await totalDrift(range)).toEqual(CLEAN);
    const again = await runCli([...args, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ clean: true, tenantId });
  });

  test("bad usage exits 2 with the reason", async () => {
    const missing = await runCli([]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("--tenant is required");
    const reversed = await runCli(["--tenant", "x", "--from", today, "--to", firstDay]);
    expect(reversed.code).toBe(2);
    expect(reversed.err).toContain("is before");
    expect((await runCli(["--tenant", "x", "--from", "2026-02-30"])).code).toBe(2);
  });
});

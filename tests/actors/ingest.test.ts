// The ingest actor through the real actors host (signed deliveries), real Postgres and Redis via the REST
// bridge: redelivery, crashes between commit and Redis, late events, partitions, leaderboards.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { batchIdFor, type IngestEvent } from "../../src/domain/events/index.ts";
import { keys } from "../../src/domain/keys.ts";
import {
  applyLeaderboardTally,
  oldestLiveMinute,
  tallyFromTuples,
} from "../../src/domain/leaderboard/index.ts";
import { MINUTE_ROLLUP_DAYS } from "../../src/domain/query/index.ts";
import { PartitionCache, pendingOutbox, storeBatch } from "../../src/warehouse/ingest.ts";
import { ROLLUPS } from "../../src/warehouse/rollups.ts";
import {
  bruteForceLeaderboards,
  expectedTotals,
  LEADERBOARD_METRICS,
  makeEvents,
  minutesOf,
  rawTotals,
  rollupTotals,
  storedLeaderboards,
} from "../events/support.ts";
import { type IngestStack, startIngestStack } from "./ingest-stack.ts";
import { deliver, readJson } from "./support.ts";

let stack: IngestStack;

beforeAll(async () => {
  stack = await startIngestStack("ingest");
});

afterAll(async () => {
  await stack?.close();
});

async function message(tenantId: string, events: IngestEvent[]) {
  return { tenantId, batchId: await batchIdFor(tenantId, events), events };
}

/** What an attempt that died right after its commit left behind: events, rollups and its outbox row. */
async function commitOnly(body: Awaited<ReturnType<typeof message>>, attemptId: string) {
  const since = new Date(oldestLiveMinute(Date.now()) * 60_000);
  return storeBatch(stack.warehouse.wh.db, new PartitionCache(), body.tenantId, body.events.map(stored), {
    attemptId,
    batchId: body.batchId,
    since,
  });
}

async function deliverBatch(body: unknown, retried = 0) {
  const response = await deliver(stack.host, "ingest", {
    body: JSON.stringify(body),
    headers: { "Upstash-Retried": String(retried) },
  });
  return { status: response.status, body: await readJson(response) };
}

async function dataVersion(tenantId: string): Promise<number> {
  return Number((await stack.redis.get(keys.dataVersion(tenantId))) ?? 0);
}

/** Raw, every rollup and every leaderboard metric agree with the events, counted once each. */
async function expectCountedOnce(tenantId: string, events: IngestEvent[]) {
  const expected = expectedTotals(events);
  expect(await rawTotals(stack.warehouse.wh, tenantId)).toEqual(expected);
  for (const { table } of ROLLUPS) {
    expect({ table, totals: await rollupTotals(stack.warehouse.wh, table, tenantId) }).toEqual({
      table,
      totals: expected,
    });
  }
  const minutes = minutesOf(events);
  for (const metric of LEADERBOARD_METRICS) {
    expect(await storedLeaderboards(stack.redis, tenantId, metric, minutes)).toEqual(
      bruteForceLeaderboards(events, metric),
    );
  }
}

const now = Date.now();
const recent = { from: now - 20 * 60_000, to: now };

describe("ingest actor", () => {
  test("the same batch delivered three times counts once in raw, rollups and leaderboards", async () => {
    const tenantId = stack.tenant("thrice");
    const events = makeEvents(300, { ...recent, seed: 7 });
    const body = await message(tenantId, events);

    const first = await deliverBatch(body);
    expect(first).toEqual({
      status: 200,
      body: { batchId: body.batchId, received: 300, inserted: 300, talliesApplied: 1, dataVersion: 1 },
    });
    const second = await deliverBatch(body, 1);
    const third = await deliverBatch(body, 2);
    expect(second.body).toMatchObject({ inserted: 0, talliesApplied: 0 });
    expect(third.body).toMatchObject({ inserted: 0, talliesApplied: 0 });

    await expectCountedOnce(tenantId, events);
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toEqual([]);
  });

  test("the data version goes up with every batch that brings new events, not with a first-time duplicate", async () => {
    const tenantId = stack.tenant("version");
    const events = makeEvents(10, { ...recent, seed: 8 });
    expect(await dataVersion(tenantId)).toBe(0);
    await deliverBatch(await message(tenantId, events.slice(0, 5)));
    expect(await dataVersion(tenantId)).toBe(1);
    await deliverBatch(await message(tenantId, events.slice(5)));
    expect(await dataVersion(tenantId)).toBe(2);
    // A different batch made only of stored events changes nothing.
    await deliverBatch(await message(tenantId, events.slice(2, 7)));
    expect(await dataVersion(tenantId)).toBe(2);
    // A redelivery bumps anyway: the attempt before it may have crashed between commit and bump.
    await deliverBatch(await message(tenantId, events.slice(2, 7)), 1);
    expect(await dataVersion(tenantId)).toBe(3);
  });

  test("overlapping batches: events in both are counted once", async () => {
    const tenantId = stack.tenant("overlap");
    const events = makeEvents(200, { ...recent, seed: 9 });
    const [a, b] = [events.slice(0, 120), events.slice(80)];
    const [ra, rb] = await Promise.all([
      deliverBatch(await message(tenantId, a)),
      deliverBatch(await message(tenantId, b)),
    ]);
    expect(ra.body.inserted + rb.body.inserted).toBe(200);
    await expectCountedOnce(tenantId, events);
  });

  test("a crash after commit, before Redis: the redelivery applies the tally the first attempt left", async () => {
    const tenantId = stack.tenant("crash-before-redis");
    const events = makeEvents(150, { ...recent, seed: 10 });
    const body = await message(tenantId, events);
    // The first attempt commits (events, rollups, outbox row) and dies before touching Redis.
    const crashed = await commitOnly(body, crypto.randomUUID());
    expect(crashed.inserted).toBe(150);
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toHaveLength(1);
    expect(await dataVersion(tenantId)).toBe(0);

    const redelivered = await deliverBatch(body, 1);
    expect(redelivered.body).toMatchObject({ inserted: 0, talliesApplied: 1, dataVersion: 1 });
    await expectCountedOnce(tenantId, events);
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toEqual([]);
  });

  test("a crash after Redis, before the outbox row was deleted: the marker keeps the tally from counting twice", async () => {
    const tenantId = stack.tenant("crash-after-redis");
    const events = makeEvents(150, { ...recent, seed: 11 });
    const body = await message(tenantId, events);
    const attemptId = crypto.randomUUID();
    const crashed = await commitOnly(body, attemptId);
    await applyLeaderboardTally(stack.redis, tenantId, attemptId, tallyFromTuples(crashed.tally));

    const redelivered = await deliverBatch(body, 1);
    expect(redelivered.body).toMatchObject({ inserted: 0, talliesApplied: 0 });
    await expectCountedOnce(tenantId, events);
    expect(await pendingOutbox(stack.warehouse.wh.db, tenantId)).toEqual([]);
  });

  test("late events land in their own minute; events older than the sets' retention reach only the warehouse", async () => {
    const tenantId = stack.tenant("late");
    const late = makeEvents(40, {
      from: now - 50 * 60_000,
      to: now - 45 * 60_000,
      seed: 12,
      idPrefix: "late",
    });
    const fresh = makeEvents(40, { from: now - 60_000, to: now, seed: 13, idPrefix: "fresh" });
    const old = makeEvents(30, {
      from: now - 5 * 3600_000,
      to: now - 4 * 3600_000,
      seed: 14,
      idPrefix: "old",
    });
    await deliverBatch(await message(tenantId, fresh));
    await deliverBatch(await message(tenantId, [...late, ...old]));
    for (const metric of LEADERBOARD_METRICS) {
      const minutes = minutesOf([...late, ...fresh, ...old]);
      expect(await storedLeaderboards(stack.redis, tenantId, metric, minutes)).toEqual(
        bruteForceLeaderboards([...late, ...fresh], metric),
      );
    }
    expect(await rawTotals(stack.warehouse.wh, tenantId)).toEqual(
      expectedTotals([...late, ...fresh, ...old]),
    );
  });

  test("the minute rollup gets the events of its window (and a day more); raw and every other rollup get all", async () => {
    const tenantId = stack.tenant("minute-window");
    const daysAgo = (days: number) => now - days * 86_400_000;
    const inside = makeEvents(20, { from: daysAgo(1), to: daysAgo(1) + 3600_000, seed: 31, idPrefix: "in" });
    const margin = makeEvents(20, {
      from: daysAgo(MINUTE_ROLLUP_DAYS + 0.5),
      to: daysAgo(MINUTE_ROLLUP_DAYS + 0.5) + 3600_000,
      seed: 32,
      idPrefix: "margin",
    });
    const history = makeEvents(30, {
      from: daysAgo(MINUTE_ROLLUP_DAYS + 3),
      to: daysAgo(MINUTE_ROLLUP_DAYS + 2),
      seed: 33,
      idPrefix: "old",
    });
    const all = [...inside, ...margin, ...history];
    await deliverBatch(await message(tenantId, all));
    expect(await rawTotals(stack.warehouse.wh, tenantId)).toEqual(expectedTotals(all));
    for (const { table, recentDays } of ROLLUPS) {
      const expected = expectedTotals(recentDays === undefined ? all : [...inside, ...margin]);
      expect({ table, totals: await rollupTotals(stack.warehouse.wh, table, tenantId) }).toEqual({
        table,
        totals: expected,
      });
    }
  });

  test("partitions are created for the days a batch has events on, and only those", async () => {
    const tenantId = stack.tenant("partitions");
    const day = 86_400_000;
    const events = [
      ...makeEvents(3, { from: now - 300 * day, to: now - 300 * day + 1000, seed: 15, idPrefix: "a" }),
      ...makeEvents(3, { from: now - 298 * day, to: now - 298 * day + 1000, seed: 16, idPrefix: "b" }),
    ];
    const days = [...new Set(events.map((event) => event.ts.slice(0, 10)))];
    const between = new Date(now - 299 * day).toISOString().slice(0, 10);
    const result = await deliverBatch(await message(tenantId, events));
    expect(result.body).toMatchObject({ inserted: 6 });
    const names = (
      await stack.warehouse.wh.sql<{ name: string }[]>`
        SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent IN ('ad_events'::regclass, 'ad_rollup_minute'::regclass)`
    ).map((row) => row.name);
    for (const d of days) {
      const suffix = d.replaceAll("-", "");
      expect(names).toContain(`ad_events_p${suffix}`);
      expect(names).toContain(`ad_rollup_minute_p${suffix}`);
    }
    expect(names).not.toContain(`ad_events_p${between.replaceAll("-", "")}`);
  });

  test("a malformed message goes to the dead-letter queue (489) naming the field", async () => {
    const tenantId = stack.tenant("malformed");
    const body = await message(tenantId, makeEvents(1, { ...recent, seed: 17 }));
    const broken = { ...body, events: [{ ...body.events[0], country: "usa" }] };
    const result = await deliverBatch(broken);
    expect(result.status).toBe(489);
    expect(result.body.field).toBe("events.0.country");
  });
});

function stored(event: IngestEvent) {
  return { ...event, eventId: event.id, ts: new Date(event.ts) };
}

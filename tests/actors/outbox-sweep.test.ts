// The monitor's outbox sweep: a tally stranded in the warehouse outbox (its batch committed, then gave up
// before Redis) reaches the leaderboards once it is old enough, exactly once, and a fresh row is left to the
// attempt that is still working on it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { sweepOutbox } from "../../actors/monitor/outbox.ts";
import { batchIdFor } from "../../src/domain/events/index.ts";
import { keys } from "../../src/domain/keys.ts";
import { oldestLiveMinute } from "../../src/domain/leaderboard/index.ts";
import { PartitionCache, pendingOutbox, storeBatch } from "../../src/warehouse/ingest.ts";
import {
  bruteForceLeaderboards,
  LEADERBOARD_METRICS,
  makeEvents,
  minutesOf,
  storedLeaderboards,
} from "../events/support.ts";
import { type IngestStack, startIngestStack } from "./ingest-stack.ts";

let stack: IngestStack;

beforeAll(async () => {
  stack = await startIngestStack("outbox-sweep");
});

afterAll(async () => {
  await stack?.close();
});

/** Commits a batch the way an ingest attempt does and stops before Redis, leaving its outbox row. */
async function strand(tenantId: string, seed: number) {
  const now = Date.now();
  const events = makeEvents(80, { from: now - 10 * 60_000, to: now, seed, idPrefix: `s${seed}` });
  const batchId = await batchIdFor(tenantId, events);
  const attemptId = crypto.randomUUID();
  await storeBatch(
    stack.warehouse.wh.db,
    new PartitionCache(),
    tenantId,
    events.map((event) => ({ ...event, eventId: event.id, ts: new Date(event.ts) })),
    { attemptId, batchId, since: new Date(oldestLiveMinute(now) * 60_000) },
  );
  return { events, attemptId };
}

test("stranded tallies older than the threshold are applied once; younger ones are left alone", async () => {
  const db = stack.warehouse.wh.db;
  const stranded = stack.tenant("stranded");
  const working = stack.tenant("working");
  const old = await strand(stranded, 31);
  const fresh = await strand(working, 32);
  await db.execute(sql`
    UPDATE leaderboard_outbox SET created_at = now() - interval '10 minutes'
    WHERE attempt_id = ${old.attemptId}`);

  expect(await sweepOutbox(db, stack.redis, 120_000)).toBe(1);

  for (const metric of LEADERBOARD_METRICS) {
    expect(await storedLeaderboards(stack.redis, stranded, metric, minutesOf(old.events))).toEqual(
      bruteForceLeaderboards(old.events, metric),
    );
  }
  expect(Number(await stack.redis.get(keys.dataVersion(stranded)))).toBe(1);
  expect(await pendingOutbox(db, stranded)).toEqual([]);
  // The fresh row stays for its own attempt (or its redelivery) to apply.
  expect((await pendingOutbox(db, working)).map((row) => row.attemptId)).toEqual([fresh.attemptId]);
  expect(await storedLeaderboards(stack.redis, working, "clicks", minutesOf(fresh.events))).toEqual(
    bruteForceLeaderboards([], "clicks"),
  );

  // Nothing left to sweep: a second run changes nothing.
  expect(await sweepOutbox(db, stack.redis, 120_000)).toBe(0);
  expect(Number(await stack.redis.get(keys.dataVersion(stranded)))).toBe(1);
});

test("a row applied before its delete was lost is swept without counting twice", async () => {
  const db = stack.warehouse.wh.db;
  const tenantId = stack.tenant("applied");
  const stranded = await strand(tenantId, 33);
  // Applied by the sweep, then the same row is put back as if its delete had never happened.
  await db.execute(sql`UPDATE leaderboard_outbox SET created_at = now() - interval '10 minutes'
    WHERE attempt_id = ${stranded.attemptId}`);
  const [row] = await pendingOutbox(db, tenantId);
  expect(await sweepOutbox(db, stack.redis, 120_000)).toBe(1);
  await db.execute(sql`
    INSERT INTO leaderboard_outbox (tenant_id, attempt_id, batch_id, tally, created_at)
    VALUES (${tenantId}, ${stranded.attemptId}, 'again', ${JSON.stringify(row?.tally)}::jsonb,
      now() - interval '10 minutes')`);

  expect(await sweepOutbox(db, stack.redis, 120_000)).toBe(1);
  for (const metric of LEADERBOARD_METRICS) {
    expect(await storedLeaderboards(stack.redis, tenantId, metric, minutesOf(stranded.events))).toEqual(
      bruteForceLeaderboards(stranded.events, metric),
    );
  }
  expect(await pendingOutbox(db, tenantId)).toEqual([]);
});

// The ingest actor: one validated batch of ad events for one tenant.
//
// 1. Day partitions for the batch's days are made sure of first (creating one locks its parent table, so never
//    inside the write).
// 2. One statement inserts the events that are new (ON CONFLICT DO NOTHING on tenant + event id + ts), folds
//    only those into every rollup (minute, hour, day, day by campaign), and leaves their leaderboard tally in
//    `leaderboard_outbox` under a fresh attempt id. A redelivered batch inserts nothing and so adds nothing.
// 3. After commit, one Redis script per tally bumps the tenant's data version (retiring its cached answers) and
//    adds the tally to the per-minute sorted sets, guarded by the attempt's marker, so it is added once.
// 4. The outbox rows are deleted.
// A crash after 2 leaves the tally in the outbox; QStash redelivers the batch, whose statement returns that
// row as pending, and step 3 applies it (or finds its marker, if the crash came after 3). So each new event
// is counted exactly once in raw, rollups and leaderboards, however often the batch is delivered.
import { type IngestEvent, ingestMessage } from "../src/domain/events/index.ts";
import { keys } from "../src/domain/keys.ts";
import { applyLeaderboardTally, oldestLiveMinute, tallyFromTuples } from "../src/domain/leaderboard/index.ts";
import { clearOutbox, isMissingPartitionError, PartitionCache, storeBatch } from "../src/warehouse/ingest.ts";
import type { EventToStore } from "../src/warehouse/rollups.ts";
import { defineActor } from "./define.ts";
import { fail, ok, retry } from "./outcome.ts";

/** Days known to have partitions, per warehouse (one per host; tests run several hosts in one process). */
const partitionCaches = new WeakMap<object, PartitionCache>();
function partitionsOf(db: object): PartitionCache {
  let cache = partitionCaches.get(db);
  if (!cache) {
    cache = new PartitionCache();
    partitionCaches.set(db, cache);
  }
  return cache;
}

export interface IngestReport {
  batchId: string;
  received: number;
  /** Events that were new; the rest were already stored. */
  inserted: number;
  /** Tallies added to the leaderboards by this delivery (its own, and any an earlier attempt left). */
  talliesApplied: number;
  dataVersion: number | null;
}

export const ingestActor = defineActor({
  name: "ingest",
  schema: ingestMessage,
  async handler(message, ctx) {
    const { tenantId, batchId } = message;
    const events = message.events.map(toStored);
    const attemptId = crypto.randomUUID();
    const since = new Date(oldestLiveMinute(Date.now()) * 60_000);

    let stored: Awaited<ReturnType<typeof storeBatch>>;
    try {
      stored = await storeBatch(ctx.db, partitionsOf(ctx.db), tenantId, events, {
        attemptId,
        batchId,
        since,
      });
    } catch (error) {
      return warehouseFailure(error);
    }

    const tallies = [...stored.pending];
    if (stored.tally.length > 0) tallies.push({ attemptId, tally: stored.tally });
    // A redelivery may follow a crash between commit and bump: bump again rather than serve a stale answer.
    const bump = stored.inserted > 0 || tallies.length > 0 || ctx.delivery.retried > 0;

    let dataVersion: number | null = null;
    let talliesApplied = 0;
    try {
      for (const pending of tallies) {
        const result = await applyLeaderboardTally(
          ctx.redis,
          tenantId,
          pending.attemptId,
          tallyFromTuples(pending.tally),
        );
        dataVersion = result.dataVersion;
        if (result.applied) talliesApplied++;
      }
      if (tallies.length === 0 && bump) dataVersion = await ctx.redis.incr(keys.dataVersion(tenantId));
    } catch (error) {
      // The events are committed and the tallies wait in the outbox: the redelivery applies them.
      return retry(`redis: ${error instanceof Error ? error.message : String(error)}`);
    }

    try {
      await clearOutbox(
        ctx.db,
        tenantId,
        tallies.map((pending) => pending.attemptId),
      );
    } catch (error) {
      // Harmless: a row left behind is applied again only up to its marker, i.e. not at all.
      ctx.log.warn("outbox not cleared", {
        batchId,
        error: error instanceof Error ? error.message : String(error),
      });
    }

    const report: IngestReport = {
      batchId,
      received: events.length,
      inserted: stored.inserted,
      talliesApplied,
      dataVersion,
    };
    if (stored.pending.length > 0) ctx.log.info("applied tallies an earlier attempt left", { ...report });
    return ok(report);
  },
});

function toStored(event: IngestEvent): EventToStore {
  return {
    eventId: event.id,
    // Already normalised ISO text (src/domain/events): written as it is, with no Date made and formatted again.
    ts: event.ts,
    kind: event.kind,
    channel: event.channel,
    campaign: event.campaign,
    ad: event.ad,
    country: event.country,
    city: event.city,
    cost: event.cost,
    revenue: event.revenue,
  };
}

/** Bad data (SQLSTATE class 22, or a constraint other than a missing partition) will not get better: fail. */
function warehouseFailure(error: unknown) {
  const candidate = (error as { cause?: unknown })?.cause ?? error;
  const { code, message } = (candidate ?? {}) as { code?: string; message?: string };
  const detail = message ?? String(error);
  if (code && (code.startsWith("22") || code.startsWith("23")) && !isMissingPartitionError(error)) {
    return fail(`warehouse refused the batch (SQLSTATE ${code}): ${detail}`);
  }
  return retry(`warehouse: ${detail}`);
}

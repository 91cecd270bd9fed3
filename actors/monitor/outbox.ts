// Applies leaderboard tallies stranded in the warehouse outbox. An ingest attempt commits its events with
// their tally and applies the tally to Redis right after; a redelivery applies what an earlier attempt left.
// Only a batch that gives up (dead-lettered while Redis was unreachable) strands its row: the monitor applies
// it once it is old enough that no live attempt can still be working on it. Applying twice is harmless, since
// each tally is guarded by its attempt's marker in Redis.
import type { Redis } from "@upstash/redis";
import type { WarehouseDb } from "../../src/warehouse/db.ts";
import { staleOutbox } from "../../src/warehouse/ingest.ts";
import { applyOutboxRows } from "../../src/warehouse/reconcile.ts";

/** Rows per monitor run: a backlog drains over a few runs without making one run slow. */
const SWEEP_LIMIT = 200;

/** Applies and deletes outbox rows older than `olderThanMs`; returns how many. */
export async function sweepOutbox(
  db: WarehouseDb,
  redis: Redis,
  olderThanMs: number,
  now = Date.now(),
): Promise<number> {
  const stale = await staleOutbox(db, new Date(now - olderThanMs), SWEEP_LIMIT);
  await applyOutboxRows(db, redis, stale, now);
  return stale.length;
}

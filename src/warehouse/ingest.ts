// The warehouse half of ingesting a batch: day partitions ahead of the write (remembered per process, so a
// steady stream costs no extra round trip), the write itself, and the leaderboard outbox's upkeep.
import { sql } from "drizzle-orm";
import { ensurePartitions, type SqlExecutor, utcDay } from "./partitions.ts";
import {
  type EventToStore,
  type InsertWithTallyResult,
  insertEventsWithLeaderboardTally,
  type LeaderboardCapture,
  type PendingTally,
} from "./rollups.ts";

/** The day-partitioned tables a batch of events writes to. */
const EVENT_TABLES = ["ad_events", "ad_rollup_minute"] as const;

const DAY_MS = 86_400_000;

/** How long a day known to have its partitions is trusted before it is checked again. */
const REMEMBER_MS = 10 * 60_000;

/**
 * Remembers which UTC days already have their partitions, so only a batch bringing a new day pays for the
 * check. Partitions are created only for the days a batch has events on (not every day in between).
 */
export class PartitionCache {
  private readonly known = new Map<string, number>();

  /** Makes sure every day the events fall on has its partitions; returns how many partitions were created. */
  async ensureFor(
    db: SqlExecutor,
    events: readonly Pick<EventToStore, "ts">[],
    now = Date.now(),
  ): Promise<number> {
    // Distinct day numbers first: a bulk batch has thousands of events on a handful of days.
    const dayNumbers = new Set<number>();
    for (const event of events) {
      const ms = typeof event.ts === "string" ? Date.parse(event.ts) : event.ts.getTime();
      dayNumbers.add(Math.floor(ms / DAY_MS));
    }
    const missing = [...dayNumbers]
      .map((day) => utcDay(new Date(day * DAY_MS)))
      .filter((day) => (this.known.get(day) ?? 0) <= now)
      .sort();
    let created = 0;
    for (const [from, to] of consecutiveRuns(missing)) {
      for (const table of EVENT_TABLES) created += await ensurePartitions(db, table, from, to);
    }
    for (const day of missing) this.known.set(day, now + REMEMBER_MS);
    return created;
  }

  /** Forgets every day, e.g. after a write found a partition missing (one was dropped by retention). */
  forget(): void {
    this.known.clear();
  }
}

/** Sorted `YYYY-MM-DD` days grouped into runs of consecutive days: `[first, last]` per run. */
export function consecutiveRuns(days: readonly string[]): [string, string][] {
  const runs: [string, string][] = [];
  for (const day of days) {
    const last = runs[runs.length - 1];
    if (last && Date.parse(`${day}T00:00:00Z`) - Date.parse(`${last[1]}T00:00:00Z`) === 86_400_000)
      last[1] = day;
    else runs.push([day, day]);
  }
  return runs;
}

/** True when Postgres refused a row because its day has no partition (SQLSTATE 23514, "no partition"). */
export function isMissingPartitionError(error: unknown): boolean {
  const candidate = (error as { cause?: unknown })?.cause ?? error;
  const { code, message } = (candidate ?? {}) as { code?: string; message?: string };
  return code === "23514" && /no partition/i.test(message ?? "");
}

/**
 * Ensures partitions, then inserts and folds the events and captures their leaderboard tally, in one statement.
 * A partition the cache wrongly believed in (dropped since) is created and the write tried once more.
 */
export async function storeBatch(
  db: SqlExecutor,
  partitions: PartitionCache,
  tenantId: string,
  events: readonly EventToStore[],
  capture: LeaderboardCapture,
): Promise<InsertWithTallyResult> {
  await partitions.ensureFor(db, events);
  try {
    return await insertEventsWithLeaderboardTally(db, tenantId, events, capture);
  } catch (error) {
    if (!isMissingPartitionError(error)) throw error;
    partitions.forget();
    await partitions.ensureFor(db, events);
    return await insertEventsWithLeaderboardTally(db, tenantId, events, capture);
  }
}

/** Deletes outbox rows once their tallies are in Redis. */
export async function clearOutbox(
  db: SqlExecutor,
  tenantId: string,
  attemptIds: readonly string[],
): Promise<void> {
  if (attemptIds.length === 0) return;
  await db.execute(sql`
    DELETE FROM leaderboard_outbox
    WHERE tenant_id = ${tenantId} AND attempt_id = ANY(${textArray(attemptIds)}::text[])`);
}

/** Every outbox row a tenant has (attempts whose Redis update has not been confirmed), oldest first. */
export async function pendingOutbox(db: SqlExecutor, tenantId: string): Promise<PendingTally[]> {
  const rows = await db.execute<{ attempt_id: string; tally: PendingTally["tally"] }>(sql`
    SELECT attempt_id, tally FROM leaderboard_outbox WHERE tenant_id = ${tenantId} ORDER BY created_at, attempt_id`);
  return rows.map((row) => ({ attemptId: row.attempt_id, tally: row.tally }));
}

/** A Postgres array literal of texts, bound as one parameter. */
function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/** A tally left in the outbox, with the tenant it belongs to. */
export interface StaleTally extends PendingTally {
  tenantId: string;
}

/**
 * Outbox rows of every tenant written before `before`, oldest first, at most `limit`: tallies whose batch was
 * dead-lettered (or never redelivered) after its commit, which nothing else would apply.
 */
export async function staleOutbox(db: SqlExecutor, before: Date, limit: number): Promise<StaleTally[]> {
  const rows = await db.execute<{ tenant_id: string; attempt_id: string; tally: PendingTally["tally"] }>(sql`
    SELECT tenant_id, attempt_id, tally FROM leaderboard_outbox
    WHERE created_at < ${before.toISOString()}::timestamptz
    ORDER BY created_at, tenant_id, attempt_id
    LIMIT ${limit}`);
  return rows.map((row) => ({ tenantId: row.tenant_id, attemptId: row.attempt_id, tally: row.tally }));
}

import { sql } from "drizzle-orm";
import type { WarehouseDb } from "./db.ts";
import { DAY_PARTITIONED_TABLES, type DayPartitionedTable } from "./schema.ts";

/** Anything that can run a statement: the warehouse db or a transaction on it. */
export type SqlExecutor = Pick<WarehouseDb, "execute">;

/** A UTC day: a `Date` (its UTC date is used) or `YYYY-MM-DD`. */
export type Day = Date | string;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` of the UTC day a value falls on. Throws on anything else. */
export function utcDay(day: Day): string {
  if (day instanceof Date) {
    if (Number.isNaN(day.getTime())) throw new RangeError("utcDay: invalid Date");
    return day.toISOString().slice(0, 10);
  }
  // The round trip rejects days that do not exist (2026-02-30) instead of rolling them over.
  const parsed = new Date(`${day}T00:00:00Z`);
  if (!DAY_PATTERN.test(day) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day) {
    throw new RangeError(`utcDay: expected YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
  return day;
}

/** The name `fairway_ensure_day_partitions` gives a day's partition, e.g. `ad_events_p20261125`. */
export function dayPartitionName(table: DayPartitionedTable, day: Day): string {
  return `${table}_p${utcDay(day).replaceAll("-", "")}`;
}

/**
 * Makes sure `table` has a partition for every UTC day from `from` to `to`, both included; returns how many it
 * created. Idempotent and safe to call concurrently. Creating a partition briefly locks the parent table, so
 * call it before the transaction that writes the rows, not inside one that already wrote to `table`.
 *
 * @example await ensurePartitions(wh.db, "ad_events", new Date(), new Date(Date.now() + 86_400_000));
 */
export async function ensurePartitions(
  db: SqlExecutor,
  table: DayPartitionedTable,
  from: Day,
  to: Day,
): Promise<number> {
  if (!(table in DAY_PARTITIONED_TABLES))
    throw new RangeError(`ensurePartitions: ${table} is not day-partitioned`);
  const [fromDay, toDay] = [utcDay(from), utcDay(to)];
  if (toDay < fromDay) throw new RangeError(`ensurePartitions: ${toDay} is before ${fromDay}`);
  const rows = await db.execute<{ created: number }>(
    sql`select fairway_ensure_day_partitions(${table}::regclass, ${fromDay}::date, ${toDay}::date) as created`,
  );
  return Number(rows[0]?.created ?? 0);
}

/** `ensurePartitions` for every day-partitioned table (raw events, minute rollups, influencer points). */
export async function ensureAllDayPartitions(db: SqlExecutor, from: Day, to: Day): Promise<number> {
  let created = 0;
  for (const table of Object.keys(DAY_PARTITIONED_TABLES) as DayPartitionedTable[]) {
    created += await ensurePartitions(db, table, from, to);
  }
  return created;
}

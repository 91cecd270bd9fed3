// Raw events in, rollups folded, in one statement: the ingest path's write, and how tests build rollups.
//
// The insert skips events already stored (`ON CONFLICT DO NOTHING` on tenant + event id + ts), and only the
// rows it actually inserted (its RETURNING) are folded into every rollup in `ROLLUPS` (minute, hour and day
// by every dimension; day by channel, campaign and country), all in the same statement: a redelivered batch
// inserts nothing and therefore adds nothing. What each rollup column holds
// is what the query compiler reads back (src/domain/query/sql-members.ts):
// impressions / views / clicks / conversions count the events of that kind; spend and revenue sum `cost`
// and `revenue` over events of every kind. Buckets are UTC (`date_bin`, the same as `date_trunc(unit, ts, 'UTC')`).
// The minute rollup keeps only recent events (`recentDays`); the query compiler reads it only for them.
import { type SQL, sql } from "drizzle-orm";
import { MINUTE_ROLLUP_DAYS } from "../domain/query/source.ts";
import type { SqlExecutor } from "./partitions.ts";
import type { LeaderboardTallyRow, NewAdEvent } from "./schema.ts";

/**
 * An event to store; the tenant is given separately. `cost` / `revenue` default to 0. `ts` may be the ISO text
 * ingestion has already normalised, which is written as it is.
 */
export type EventToStore = Omit<NewAdEvent, "tenantId" | "receivedAt" | "ts"> & { ts: Date | string };

/** The dimensions an event carries, in key order; every rollup keeps all of them or a subset. */
export const ROLLUP_DIMENSIONS = ["channel", "campaign", "ad", "country", "city"] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

export interface Rollup {
  table: string;
  /** Its UTC bucket (`date_trunc` unit). */
  grain: "minute" | "hour" | "day";
  /** The dimensions it keeps, in key order: the bucket and these are its primary key after the tenant. */
  dimensions: readonly RollupDimension[];
  /**
   * Ingestion folds only events at most this many days (plus one) old when stored; older buckets are
   * incomplete and never read. Absent: every event.
   */
  recentDays?: number;
}

/**
 * Every rollup the ingest statement folds, in the order it folds them (and so takes their row locks). The
 * query compiler's sources mirror this list (src/domain/query/source.ts); reconciliation walks it.
 */
export const ROLLUPS: readonly Rollup[] = [
  {
    table: "ad_rollup_minute",
    grain: "minute",
    dimensions: ROLLUP_DIMENSIONS,
    recentDays: MINUTE_ROLLUP_DAYS,
  },
  { table: "ad_rollup_hour", grain: "hour", dimensions: ROLLUP_DIMENSIONS },
  { table: "ad_rollup_day", grain: "day", dimensions: ROLLUP_DIMENSIONS },
  // Few rows per tenant and day: what day-grain questions about channels, campaigns and countries read.
  { table: "ad_rollup_day_campaign", grain: "day", dimensions: ["channel", "campaign", "country"] },
];

/** The UTC bucket of `ts`: `date_bin` is integer arithmetic where `date_trunc(…, 'UTC')` converts zones per row. */
function utcBucketSql(grain: Rollup["grain"]): string {
  return `date_bin('1 ${grain}', ts, '2000-01-01T00:00:00Z')`;
}

/**
 * `INSERT … SELECT` that adds the `inserted` CTE's rows into one rollup table, as the text around its parameters
 * (the tenant; the oldest instant folded, for a recent-only rollup). The rows are sorted by the rollup's key
 * first, then grouped in that order: one sort, and the groups come out in the lock order (hashing them and
 * sorting the groups again costs twice over when, as in a history import, there are about as many groups as
 * rows). The tenant, the same for every row of a write, is left out of the sort, which then starts with the
 * bucket, a plain integer comparison: half the sorting time of a key led by a text that always ties. Texts are
 * sorted as bytes (`COLLATE "C"`), which skips the locale library: equality, and so every group, is the same
 * under any deterministic collation, and every batch still locks rows in one fixed order (in a C or C.UTF-8
 * database, the order of the key's own index).
 */
function foldInto({ table, grain, dimensions }: Rollup): { head: SQL; middle: SQL; tail: SQL } {
  const key = ["tenant_id", "bucket", ...dimensions].join(", ");
  const groupKey = ["bucket", ...dimensions].join(", ");
  const sortKeys = [
    `${utcBucketSql(grain)} AS bucket`,
    ...dimensions.map((column) => `${column} COLLATE "C" AS ${column}`),
  ].join(", ");
  const head = `INSERT INTO ${table} AS r
      (${key}, impressions, views, clicks, conversions, spend, revenue)
    SELECT `;
  const middle = `::text, ${groupKey},
      count(*) FILTER (WHERE kind = 'impression'), count(*) FILTER (WHERE kind = 'view'),
      count(*) FILTER (WHERE kind = 'click'), count(*) FILTER (WHERE kind = 'conversion'),
      sum(cost), sum(revenue)
    FROM (SELECT ${sortKeys}, kind, cost, revenue FROM inserted`;
  const tail = ` ORDER BY ${groupKey}) AS sorted
    GROUP BY ${groupKey}
    -- A fixed order: concurrent batches lock shared rollup rows in the same order, so they cannot deadlock.
    ORDER BY ${groupKey}
    ON CONFLICT (${key}) DO UPDATE SET
      impressions = r.impressions + excluded.impressions,
      views = r.views + excluded.views,
      clicks = r.clicks + excluded.clicks,
      conversions = r.conversions + excluded.conversions,
      spend = r.spend + excluded.spend,
      revenue = r.revenue + excluded.revenue`;
  return {
    head: sql.raw(`, fold_${table} AS (${head}`),
    middle: sql.raw(middle),
    tail: sql.raw(`${tail}\n    )`),
  };
}

/** Each rollup's fold, in `ROLLUPS` order: every batch locks the same tables in turn. */
const FOLDS = ROLLUPS.map((rollup) => ({ ...foldInto(rollup), recentDays: rollup.recentDays }));

const DAY_MS = 86_400_000;

/**
 * One `fold_<table>` CTE per rollup. `clock` (epoch ms) is when the events are stored: a recent-only rollup
 * gets the events from `recentDays + 1` days before it. Without a clock every rollup gets every event.
 */
function foldCtes(tenantId: string, clock: number | undefined) {
  return sql.join(
    FOLDS.map(({ head, middle, tail, recentDays }) => {
      if (recentDays === undefined || clock === undefined) return sql`${head}${tenantId}${middle}${tail}`;
      const from = new Date(clock - (recentDays + 1) * DAY_MS).toISOString();
      return sql`${head}${tenantId}${middle} WHERE ts >= ${from}::timestamptz${tail}`;
    }),
  );
}

/**
 * The CTEs every write shares: decode the events, insert the new ones, fold them into every rollup. The
 * events arrive as one array per column: Postgres reads typed arrays with less work per row than a JSON
 * document, which matters for bulk imports of millions of rows.
 */
function insertAndFoldCtes(tenantId: string, events: readonly EventToStore[], clock: number | undefined) {
  const columns = eventColumns(events);
  return sql`
    WITH incoming AS (
      SELECT * FROM unnest(${columns.eventId}::text[], ${columns.ts}::timestamptz[], ${columns.kind}::text[],
        ${columns.channel}::text[], ${columns.campaign}::text[], ${columns.ad}::text[], ${columns.country}::text[],
        ${columns.city}::text[], ${columns.cost}::numeric[], ${columns.revenue}::numeric[])
        AS x(event_id, ts, kind, channel, campaign, ad, country, city, cost, revenue)
    ), inserted AS (
      INSERT INTO ad_events (tenant_id, event_id, ts, kind, channel, campaign, ad, country, city, cost, revenue)
      SELECT ${tenantId}, event_id, ts, kind, channel, campaign, ad, country, city, cost, revenue
      FROM incoming
      ON CONFLICT (tenant_id, event_id, ts) DO NOTHING
      RETURNING ts, kind, channel, campaign, ad, country, city, cost, revenue
    )${foldCtes(tenantId, clock)}`;
}

/** The whole write: the tenant, the events' columns and the minute window's edge are its only parameters. */
function insertAndFold(tenantId: string, events: readonly EventToStore[], clock: number | undefined) {
  return sql`${insertAndFoldCtes(tenantId, events, clock)}
    SELECT count(*)::int AS inserted FROM inserted`;
}

/**
 * Stores events for a tenant and folds the newly stored ones into every rollup; returns how many were
 * new. The day partitions of `ad_events` and `ad_rollup_minute` for the events' UTC days must exist
 * (`ensurePartitions`, before the transaction). Run it inside the ingest transaction to commit with the rest.
 * With `clock` (epoch ms, as ingestion passes it) the minute rollup gets only recent events; without, every
 * rollup is complete, which any source the compiler picks can read (what tests with fixed dates build).
 *
 * @example const { inserted } = await insertEventsWithRollups(wh.db, "t1", events);
 */
export async function insertEventsWithRollups(
  db: SqlExecutor,
  tenantId: string,
  events: readonly EventToStore[],
  clock?: number,
): Promise<{ inserted: number }> {
  if (events.length === 0) return { inserted: 0 };
  const result = await db.execute<{ inserted: number }>(insertAndFold(tenantId, events, clock));
  return { inserted: Number(result[0]?.inserted ?? 0) };
}

/**
 * The events as one Postgres array literal per column, each bound as a single text parameter (money defaults
 * to 0). Every element is quoted, so any text survives; a column is escaped element by element only when one of
 * its values needs it. One pass over the events: bulk imports send thousands per statement.
 */
function eventColumns(events: readonly EventToStore[]) {
  const n = events.length;
  const eventId = new Array<string>(n);
  const ts = new Array<string>(n);
  const kind = new Array<string>(n);
  const channel = new Array<string>(n);
  const campaign = new Array<string>(n);
  const ad = new Array<string>(n);
  const country = new Array<string>(n);
  const city = new Array<string>(n);
  const cost = new Array<string>(n);
  const revenue = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const event = events[i] as EventToStore;
    eventId[i] = event.eventId;
    ts[i] = typeof event.ts === "string" ? event.ts : event.ts.toISOString();
    kind[i] = event.kind;
    channel[i] = event.channel;
    campaign[i] = event.campaign;
    ad[i] = event.ad;
    country[i] = event.country;
    city[i] = event.city;
    cost[i] = event.cost ?? "0";
    revenue[i] = event.revenue ?? "0";
  }
  return {
    eventId: arrayLiteral(eventId),
    ts: arrayLiteral(ts),
    kind: arrayLiteral(kind),
    channel: arrayLiteral(channel),
    campaign: arrayLiteral(campaign),
    ad: arrayLiteral(ad),
    country: arrayLiteral(country),
    city: arrayLiteral(city),
    cost: arrayLiteral(cost),
    revenue: arrayLiteral(revenue),
  };
}

const NEEDS_ESCAPE = /["\\]/;

/** `{"a","b"}`: every element quoted; `"` and `\` escaped with a backslash. */
function arrayLiteral(values: readonly string[]): string {
  if (values.length === 0) return "{}";
  if (!values.some((value) => NEEDS_ESCAPE.test(value))) return `{"${values.join('","')}"}`;
  return `{${values.map((value) => `"${value.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/** What the ingest actor needs to keep the live leaderboards (see `insertEventsWithLeaderboardTally`). */
export interface LeaderboardCapture {
  /** Names the outbox row this write leaves, and the Redis marker that applies it once. */
  attemptId: string;
  batchId: string;
  /** Events before this instant are not tallied: their minutes' sorted sets have already expired. */
  since: Date;
}

/** A tally left in the outbox by an earlier attempt at the same batch, not yet known to be applied. */
export interface PendingTally {
  attemptId: string;
  tally: LeaderboardTallyRow[];
}

export interface InsertWithTallyResult {
  inserted: number;
  /** Per minute and ad, what the newly inserted events add to the leaderboards (empty when nothing new). */
  tally: LeaderboardTallyRow[];
  /** Outbox rows earlier attempts at this batch left (their Redis update may not have happened). */
  pending: PendingTally[];
}

/**
 * `insertEventsWithRollups`, plus, in the same statement: the newly inserted events tallied per minute and ad
 * (clicks, impressions, conversions, spend in millionths), that tally written to `leaderboard_outbox` under
 * `attemptId` when it is not empty, and the outbox rows earlier attempts at the same batch left. The tally
 * is committed with the events it counts, so a crash before Redis is updated loses nothing: the redelivery
 * finds the row in `pending`. `clock` is the time of storing, which the minute rollup's window is measured from.
 *
 * @example const { inserted, tally, pending } = await insertEventsWithLeaderboardTally(wh.db, "t1", events, capture);
 */
export async function insertEventsWithLeaderboardTally(
  db: SqlExecutor,
  tenantId: string,
  events: readonly EventToStore[],
  capture: LeaderboardCapture,
  clock = Date.now(),
): Promise<InsertWithTallyResult> {
  if (events.length === 0) return { inserted: 0, tally: [], pending: [] };
  const result = await db.execute<{
    inserted: number;
    tally: LeaderboardTallyRow[];
    pending: PendingTally[];
  }>(sql`
    ${insertAndFoldCtes(tenantId, events, clock)}, tallied AS (
      SELECT floor(extract(epoch FROM ts) / 60)::bigint AS minute, ad,
        count(*) FILTER (WHERE kind = 'click') AS clicks,
        count(*) FILTER (WHERE kind = 'impression') AS impressions,
        count(*) FILTER (WHERE kind = 'conversion') AS conversions,
        (sum(cost) * 1000000)::bigint AS spend_micros
      FROM inserted
      WHERE ts >= ${capture.since.toISOString()}::timestamptz
      GROUP BY 1, 2
      HAVING count(*) FILTER (WHERE kind IN ('click', 'impression', 'conversion')) > 0 OR sum(cost) > 0
    ), tally AS (
      SELECT coalesce(jsonb_agg(
        jsonb_build_array(minute, ad, clicks, impressions, conversions, spend_micros) ORDER BY minute, ad
      ), '[]'::jsonb) AS rows
      FROM tallied
    ), outbox AS (
      INSERT INTO leaderboard_outbox (tenant_id, attempt_id, batch_id, tally)
      SELECT ${tenantId}, ${capture.attemptId}, ${capture.batchId}, rows FROM tally
      WHERE jsonb_array_length(rows) > 0
    )
    SELECT (SELECT count(*)::int FROM inserted) AS inserted,
      (SELECT rows FROM tally) AS tally,
      -- The statement's snapshot does not see its own outbox insert: these are earlier attempts' rows.
      (SELECT coalesce(jsonb_agg(jsonb_build_object('attemptId', attempt_id, 'tally', tally)), '[]'::jsonb)
        FROM leaderboard_outbox WHERE tenant_id = ${tenantId} AND batch_id = ${capture.batchId}) AS pending`);
  const row = result[0];
  return { inserted: Number(row?.inserted ?? 0), tally: row?.tally ?? [], pending: row?.pending ?? [] };
}

/** The UTC days (`YYYY-MM-DD`) events fall on, first and last: the partitions they need. */
export function eventDaySpan(events: readonly Pick<EventToStore, "ts">[]): [string, string] | null {
  if (events.length === 0) return null;
  const days = events.map((event) => new Date(event.ts).toISOString().slice(0, 10)).sort();
  return [days[0] as string, days[days.length - 1] as string];
}

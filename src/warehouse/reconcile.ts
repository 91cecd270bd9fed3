// Reconciliation: recompute what ingestion maintains incrementally — every rollup in Postgres (`ROLLUPS`) and
// the per-minute leaderboards in Redis — from the raw events, report every difference, and optionally rewrite
// what differs. Raw events are the truth; everything else can be rebuilt from them.
import type { Redis } from "@upstash/redis";
import type postgres from "postgres";
import { keys } from "../domain/keys.ts";
import {
  applyLeaderboardTally,
  expectedSnapshot,
  LEADERBOARD_METRICS,
  type LeaderboardMetric,
  minuteExpiresAt,
  readSets,
  readSnapshots,
  replaceSets,
  type SetContent,
  tallyFromTuples,
} from "../domain/leaderboard/index.ts";
import type { WarehouseDb } from "./db.ts";
import { clearOutbox, PartitionCache, pendingOutbox, type StaleTally } from "./ingest.ts";
import { utcDay } from "./partitions.ts";
import { ROLLUPS, type Rollup } from "./rollups.ts";

export interface ReconcileRange {
  tenantId: string;
  /** First and last UTC day, both included (`YYYY-MM-DD`). */
  from: string;
  to: string;
}

/** One row that differs, as both sides see it (null where a side has no row). */
export interface DriftSample {
  key: Record<string, string | number>;
  expected: Record<string, string | number> | null;
  stored: Record<string, string | number> | null;
}

export interface Drift {
  /** A rollup table, or `leaderboard:<metric>`. */
  target: string;
  /** Rows (or leaderboard entries) the raw events call for, and how many are stored. */
  expected: number;
  stored: number;
  /** Called for but absent; present but not called for; present with other values. */
  missing: number;
  extra: number;
  different: number;
  /** The first few differences, for the report. */
  samples: DriftSample[];
}

export const driftCount = (drift: Drift) => drift.missing + drift.extra + drift.different;

const SAMPLES = 5;
const DAY_MS = 86_400_000;

/** `[from 00:00Z, to + 1 day 00:00Z)` in epoch ms; throws on bad days or a reversed range. */
export function rangeBounds(range: ReconcileRange): [number, number] {
  const from = Date.parse(`${utcDay(range.from)}T00:00:00Z`);
  const to = Date.parse(`${utcDay(range.to)}T00:00:00Z`) + DAY_MS;
  if (to <= from) throw new RangeError(`--to ${range.to} is before --from ${range.from}`);
  return [from, to];
}

// ---------------------------------------------------------------------------------------------- rollups

const COUNTERS = ["impressions", "views", "clicks", "conversions", "spend", "revenue"] as const;

/**
 * The statement comparing one rollup table with the raw events over a range ($1 tenant, $2 from, $3 to), as
 * CTEs `truth`, `stored` and `compared` (one row per key on either side, `drift` null when equal), plus the
 * given tail. Table, grain and dimensions come from constants only.
 */
function comparison({ table, grain, dimensions }: Rollup, tail: string): string {
  const key = ["bucket", ...dimensions];
  const differs = COUNTERS.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(" OR ");
  return `
    WITH truth AS (
      SELECT date_trunc('${grain}', ts, 'UTC') AS bucket, ${dimensions.join(", ")},
        count(*) FILTER (WHERE kind = 'impression') AS impressions, count(*) FILTER (WHERE kind = 'view') AS views,
        count(*) FILTER (WHERE kind = 'click') AS clicks, count(*) FILTER (WHERE kind = 'conversion') AS conversions,
        sum(cost) AS spend, sum(revenue) AS revenue
      FROM ad_events WHERE tenant_id = $1 AND ts >= $2 AND ts < $3
      GROUP BY ${key.map((_, i) => i + 1).join(", ")}
    ), stored AS (
      SELECT ${key.join(", ")}, ${COUNTERS.join(", ")}
      FROM ${table} WHERE tenant_id = $1 AND bucket >= $2 AND bucket < $3
    ), compared AS (
      SELECT ${key.map((k) => `coalesce(t.${k}, s.${k}) AS ${k}`).join(", ")},
        ${COUNTERS.map((c) => `t.${c} AS t_${c}, s.${c} AS s_${c}`).join(", ")},
        CASE WHEN s.bucket IS NULL THEN 'missing' WHEN t.bucket IS NULL THEN 'extra'
             WHEN ${differs} THEN 'different' END AS drift
      FROM truth t FULL JOIN stored s USING (${key.join(", ")})
    )
    ${tail}`;
}

function reportQuery(rollup: Rollup): string {
  const columns = COUNTERS.map((c) => `'${c}', t_${c}`).join(", ");
  const storedColumns = COUNTERS.map((c) => `'${c}', s_${c}`).join(", ");
  return comparison(
    rollup,
    `SELECT (SELECT count(*) FROM truth)::int AS expected, (SELECT count(*) FROM stored)::int AS stored,
      (SELECT count(*) FROM compared WHERE drift = 'missing')::int AS missing,
      (SELECT count(*) FROM compared WHERE drift = 'extra')::int AS extra,
      (SELECT count(*) FROM compared WHERE drift = 'different')::int AS different,
      (SELECT coalesce(jsonb_agg(x), '[]'::jsonb) FROM (
        SELECT jsonb_build_object('bucket', bucket, ${rollup.dimensions.map((d) => `'${d}', ${d}`).join(", ")}) AS key,
          CASE WHEN drift = 'extra' THEN NULL ELSE jsonb_build_object(${columns}) END AS expected,
          CASE WHEN drift = 'missing' THEN NULL ELSE jsonb_build_object(${storedColumns}) END AS stored
        FROM compared WHERE drift IS NOT NULL
        ORDER BY bucket, ${rollup.dimensions.join(", ")} LIMIT ${SAMPLES}) x) AS samples`,
  );
}

/** Rewrites differing rows from the truth and deletes rows the truth does not call for; one statement. */
function repairQuery(rollup: Rollup): string {
  const { table } = rollup;
  const key = ["bucket", ...rollup.dimensions];
  return comparison(
    rollup,
    `, removed AS (
      DELETE FROM ${table} r USING compared c
      WHERE c.drift = 'extra' AND r.tenant_id = $1 AND ${key.map((k) => `r.${k} = c.${k}`).join(" AND ")}
      RETURNING 1
    ), written AS (
      INSERT INTO ${table} AS r (tenant_id, ${key.join(", ")}, ${COUNTERS.join(", ")})
      SELECT $1, ${key.join(", ")}, ${COUNTERS.map((c) => `t_${c}`).join(", ")}
      FROM compared WHERE drift IN ('missing', 'different')
      ORDER BY ${key.join(", ")}
      ON CONFLICT (tenant_id, ${key.join(", ")}) DO UPDATE SET
        ${COUNTERS.map((c) => `${c} = excluded.${c}`).join(", ")}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM removed)::int + (SELECT count(*) FROM written)::int AS rewritten`,
  );
}

/**
 * The part of `[from, to)` a rollup answers for: all of it, or for a recent-only rollup (minute) what starts
 * within its window of `clock` (older buckets are incomplete by design and never read). Empty: `from >= to`.
 */
function rollupBounds({ recentDays }: Rollup, [from, to]: [number, number], clock: number): [Date, Date] {
  const start = recentDays === undefined ? from : Math.max(from, clock - recentDays * DAY_MS);
  return [new Date(start), new Date(Math.max(start, to))];
}

/** Compares each rollup table with the raw events over the range (`clock`: now, for the minute window). */
export async function checkRollups(
  sql: postgres.Sql,
  range: ReconcileRange,
  clock = Date.now(),
): Promise<Drift[]> {
  const bounds = rangeBounds(range);
  const drifts: Drift[] = [];
  for (const rollup of ROLLUPS) {
    const [row] = await sql.unsafe(reportQuery(rollup), [
      range.tenantId,
      ...rollupBounds(rollup, bounds, clock),
    ]);
    const r = row as unknown as Omit<Drift, "target">;
    drifts.push({ target: rollup.table, ...r, samples: r.samples.map(sampleFromJson) });
  }
  return drifts;
}

/**
 * Rewrites every rollup row in the range that differs from the raw events; returns rows written or deleted.
 * Runs in REPEATABLE READ and retries on a serialization failure: a batch ingested meanwhile either lands
 * before the snapshot (and is part of the truth) or makes the repair retry, never half of each.
 */
export async function repairRollups(
  db: WarehouseDb,
  sql: postgres.Sql,
  range: ReconcileRange,
  clock = Date.now(),
): Promise<number> {
  const bounds = rangeBounds(range);
  const [from, to] = bounds;
  const days = await sql<{ day: string }[]>`
    SELECT DISTINCT to_char(date_trunc('day', ts, 'UTC'), 'YYYY-MM-DD') AS day FROM ad_events
    WHERE tenant_id = ${range.tenantId} AND ts >= ${new Date(from)} AND ts < ${new Date(to)}`;
  await new PartitionCache().ensureFor(
    db,
    days.map((d) => ({ ts: new Date(`${d.day}T00:00:00Z`) })),
  );
  let rewritten = 0;
  for (const rollup of ROLLUPS) {
    rewritten += await withSerializableRetry(async () => {
      const result = await sql.begin("isolation level repeatable read", (tx) =>
        tx.unsafe(repairQuery(rollup), [range.tenantId, ...rollupBounds(rollup, bounds, clock)]),
      );
      return Number((result[0] as unknown as { rewritten: number }).rewritten);
    });
  }
  return rewritten;
}

async function withSerializableRetry<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (i >= tries || (code !== "40001" && code !== "40P01" && code !== "23505")) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * i));
    }
  }
}

function sampleFromJson(raw: unknown): DriftSample {
  const { key, expected, stored } = raw as DriftSample;
  return { key, expected, stored };
}

// ------------------------------------------------------------------------------------------ leaderboards

export interface LeaderboardCheckOptions extends ReconcileRange {
  /** The clock the minutes still in Redis are judged by (epoch ms). */
  now?: number;
}

/** The minutes of the range whose sets may still exist and will for at least another minute. */
export function liveMinutes(range: ReconcileRange, now: number): number[] {
  const [from, to] = rangeBounds(range);
  const nowSeconds = Math.floor(now / 1000);
  const minutes: number[] = [];
  for (let minute = Math.floor(from / 60_000); minute < Math.ceil(to / 60_000); minute++) {
    const expiresAt = minuteExpiresAt(minute);
    if (expiresAt <= nowSeconds + 60) continue;
    // Events may be up to a day ahead of the clock; nothing beyond can have a set.
    if (minute * 60_000 > now + DAY_MS + 60_000) break;
    minutes.push(minute);
  }
  return minutes;
}

/** Per metric and minute, ad → score, as the raw events say (spend in millionths). */
async function leaderboardTruth(
  sql: postgres.Sql,
  tenantId: string,
  minutes: readonly number[],
): Promise<Map<string, Map<string, number>>> {
  const truth = new Map<string, Map<string, number>>();
  if (minutes.length === 0) return truth;
  const from = new Date((minutes[0] as number) * 60_000);
  const to = new Date(((minutes[minutes.length - 1] as number) + 1) * 60_000);
  const rows = await sql<
    { minute: string; ad: string; clicks: string; impressions: string; conversions: string; spend: string }[]
  >`
    SELECT floor(extract(epoch FROM ts) / 60)::bigint AS minute, ad,
      count(*) FILTER (WHERE kind = 'click') AS clicks, count(*) FILTER (WHERE kind = 'impression') AS impressions,
      count(*) FILTER (WHERE kind = 'conversion') AS conversions, (sum(cost) * 1000000)::bigint AS spend
    FROM ad_events WHERE tenant_id = ${tenantId} AND ts >= ${from} AND ts < ${to}
    GROUP BY 1, 2`;
  for (const row of rows) {
    for (const metric of LEADERBOARD_METRICS) {
      const score = Number(row[metric]);
      if (score === 0) continue;
      const key = keys.top(tenantId, metric, Number(row.minute));
      const set = truth.get(key) ?? new Map<string, number>();
      set.set(row.ad, score);
      truth.set(key, set);
    }
  }
  return truth;
}

interface SetComparison {
  drift: Drift;
  /** Sets to rewrite with their expected content, for repair. */
  rewrite: SetContent[];
}

function compareSets(
  metric: LeaderboardMetric,
  minutes: readonly number[],
  expected: Map<string, Map<string, number>>,
  stored: Map<string, number>[],
  snapshots: ([string, number][] | undefined)[],
  tenantId: string,
): SetComparison {
  const drift: Drift = {
    target: `leaderboard:${metric}`,
    expected: 0,
    stored: 0,
    missing: 0,
    extra: 0,
    different: 0,
    samples: [],
  };
  const rewrite: SetComparison["rewrite"] = [];
  minutes.forEach((minute, i) => {
    const key = keys.top(tenantId, metric, minute);
    const want = expected.get(key) ?? new Map<string, number>();
    const have = stored[i] as Map<string, number>;
    drift.expected += want.size;
    drift.stored += have.size;
    let differs = false;
    const note = (ad: string, kind: "missing" | "extra" | "different", e?: number, s?: number) => {
      drift[kind]++;
      differs = true;
      if (drift.samples.length < SAMPLES) {
        drift.samples.push({
          key: { minute: new Date(minute * 60_000).toISOString(), ad },
          expected: e === undefined ? null : { [metric]: e },
          stored: s === undefined ? null : { [metric]: s },
        });
      }
    };
    for (const [ad, score] of want) {
      const found = have.get(ad);
      if (found === undefined) note(ad, "missing", score);
      else if (found !== score) note(ad, "different", score, found);
    }
    for (const [ad, score] of have) if (!want.has(ad)) note(ad, "extra", undefined, score);
    // The snapshot the one-minute top list is served from must be the set's own top entries.
    const snapshot = snapshots[i];
    const wantSnapshot = expectedSnapshot(want);
    if (!differs && JSON.stringify(snapshot ?? []) !== JSON.stringify(wantSnapshot)) {
      note("(top-100 snapshot)", "different", wantSnapshot.length, snapshot?.length ?? 0);
    }
    if (differs) rewrite.push({ tenantId, metric, minute, scores: want });
  });
  return { drift, rewrite };
}

/** Applies every tally the outbox still holds for the tenant, so in-flight batches are not seen as drift. */
export async function flushOutbox(db: WarehouseDb, redis: Redis, tenantId: string): Promise<number> {
  const pending = await pendingOutbox(db, tenantId);
  await applyOutboxRows(
    db,
    redis,
    pending.map((entry) => ({ ...entry, tenantId })),
  );
  return pending.length;
}

/**
 * Adds outbox rows' tallies to the leaderboards (each once, under its attempt's marker), then deletes each
 * row: a row applied and not yet deleted is harmless, a row deleted unapplied would be lost.
 */
export async function applyOutboxRows(
  db: WarehouseDb,
  redis: Redis,
  rows: readonly StaleTally[],
  now = Date.now(),
): Promise<void> {
  for (const row of rows) {
    await applyLeaderboardTally(redis, row.tenantId, row.attemptId, tallyFromTuples(row.tally), now);
    await clearOutbox(db, row.tenantId, [row.attemptId]);
  }
}

/** Keys per script call: large enough to be quick, small enough for one REST request. */
const KEYS_PER_READ = 240;

/**
 * Compares the leaderboards of the range's minutes still in Redis with the raw events; with `repair`,
 * rewrites every set that differs. Returns one drift per metric (as found, before any repair).
 */
export async function reconcileLeaderboards(
  db: WarehouseDb,
  sql: postgres.Sql,
  redis: Redis,
  options: LeaderboardCheckOptions & { repair?: boolean },
): Promise<{ drifts: Drift[]; rewritten: number; minutes: number[] }> {
  await flushOutbox(db, redis, options.tenantId);
  const minutes = liveMinutes(options, options.now ?? Date.now());
  const truth = await leaderboardTruth(sql, options.tenantId, minutes);
  const drifts: Drift[] = [];
  let rewritten = 0;
  for (const metric of LEADERBOARD_METRICS) {
    const stored: Map<string, number>[] = [];
    const snapshots: ([string, number][] | undefined)[] = [];
    for (let i = 0; i < minutes.length; i += KEYS_PER_READ) {
      const slice = minutes.slice(i, i + KEYS_PER_READ);
      stored.push(
        ...(await readSets(
          redis,
          slice.map((minute) => keys.top(options.tenantId, metric, minute)),
        )),
      );
      snapshots.push(
        ...(await readSnapshots(
          redis,
          slice.map((minute) => keys.topSnapshot(options.tenantId, metric, minute)),
        )),
      );
    }
    const { drift, rewrite } = compareSets(metric, minutes, truth, stored, snapshots, options.tenantId);
    drifts.push(drift);
    if (options.repair) {
      for (let i = 0; i < rewrite.length; i += KEYS_PER_READ) {
        await replaceSets(redis, rewrite.slice(i, i + KEYS_PER_READ));
      }
      rewritten += rewrite.length;
    }
  }
  return { drifts, rewritten, minutes };
}

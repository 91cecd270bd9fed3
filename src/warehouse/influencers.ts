// Influencer points in the warehouse: the sink's batch write (points and `influencers` rows in one
// transaction) and the metrics reads (raw points, or per-bucket aggregates). postgres.js, parameterised.
import type { Sql } from "postgres";
import { COUNTERS, type Counters } from "../domain/influencers/ids.ts";
import type { BucketAggregate, RawPoint } from "../domain/influencers/series.ts";
import { consecutiveRuns } from "./ingest.ts";
import { ensurePartitions, type SqlExecutor, utcDay } from "./partitions.ts";

export interface PointRow {
  tenantId: string;
  influencerId: string;
  /** Epoch ms. */
  ts: number;
  counters: Counters;
}

/** What one batch says about an influencer's `influencers` row, folded in stream order. */
export interface InfluencerRowUpdate {
  tenantId: string;
  influencerId: string;
  intervalSeconds: number;
  status: "active" | "stopped";
  /** Latest provider answer in the batch (epoch ms), or null when the batch has none. */
  lastSeenAt: number | null;
  /** A new last error (null clears it: the provider answered since), or undefined to leave it as it is. */
  lastError: string | null | undefined;
}

/** Every array is bound as text[] and cast in SQL, so a leading null cannot confuse type inference. */
const TEXT_OID = 25;

/** How long a day known to have its partition is trusted before it is checked again. */
const REMEMBER_MS = 10 * 60_000;

/** Days whose `influencer_metrics` partition is known to exist, so a steady stream checks once a day. */
export class InfluencerPartitions {
  private readonly known = new Map<string, number>();

  async ensureFor(db: SqlExecutor, points: readonly { ts: number }[], now = Date.now()): Promise<void> {
    const missing = [...new Set(points.map((p) => utcDay(new Date(p.ts))))]
      .filter((day) => (this.known.get(day) ?? 0) <= now)
      .sort();
    for (const [from, to] of consecutiveRuns(missing)) {
      await ensurePartitions(db, "influencer_metrics", from, to);
    }
    for (const day of missing) this.known.set(day, now + REMEMBER_MS);
  }

  /** After a write found a partition missing (dropped by retention), check every day again. */
  forget(): void {
    this.known.clear();
  }
}

/**
 * Writes one sink batch in one transaction: every point in one multi-row insert (a point already stored for
 * the same influencer and time is skipped), then the `influencers` rows. Rows are only created for tenants
 * the warehouse knows, so a point of an unknown tenant can never block the stream. Returns the new points.
 */
export async function writeInfluencerBatch(
  sql: Sql,
  points: readonly PointRow[],
  updates: readonly InfluencerRowUpdate[],
): Promise<number> {
  return sql.begin(async (tx) => {
    let inserted = 0;
    if (points.length > 0) {
      const column = (pick: (p: PointRow) => string | null) => tx.array(points.map(pick), TEXT_OID);
      const counter = (name: (typeof COUNTERS)[number]) =>
        column((p) => (p.counters[name] === null ? null : String(p.counters[name])));
      const result = await tx`
        insert into influencer_metrics
          (tenant_id, influencer_id, ts, followers, following, posts, likes, comments, views)
        select * from unnest(
          ${column((p) => p.tenantId)}::text[], ${column((p) => p.influencerId)}::text[],
          ${column((p) => new Date(p.ts).toISOString())}::timestamptz[], ${counter("followers")}::bigint[],
          ${counter("following")}::bigint[], ${counter("posts")}::bigint[], ${counter("likes")}::bigint[],
          ${counter("comments")}::bigint[], ${counter("views")}::bigint[])
        on conflict do nothing`;
      inserted = result.count;
    }
    if (updates.length > 0) {
      const column = (pick: (u: InfluencerRowUpdate) => string | null) =>
        tx.array(updates.map(pick), TEXT_OID);
      const rows = tx`
        select * from unnest(
          ${column((u) => u.tenantId)}::text[], ${column((u) => u.influencerId)}::text[],
          ${column((u) => String(u.intervalSeconds))}::int[], ${column((u) => u.status)}::text[],
          ${column((u) => (u.lastSeenAt === null ? null : new Date(u.lastSeenAt).toISOString()))}::timestamptz[],
          ${column((u) => u.lastError ?? null)}::text[], ${column((u) => String(u.lastError !== undefined))}::boolean[]
        ) as u(tenant_id, influencer_id, interval_seconds, status, last_seen_at, last_error, error_given)`;
      // New rows first (only for tenants the warehouse knows), then one update for all: it can leave
      // last_error alone, which an upsert's `excluded` row cannot express.
      await tx`
        insert into influencers (tenant_id, influencer_id, interval_seconds, status, last_seen_at, last_error)
        select u.tenant_id, u.influencer_id, u.interval_seconds, u.status, u.last_seen_at, u.last_error
        from (${rows}) u join tenants on tenants.id = u.tenant_id
        on conflict do nothing`;
      await tx`
        update influencers cur set
          interval_seconds = u.interval_seconds,
          status = u.status,
          last_seen_at = greatest(cur.last_seen_at, u.last_seen_at),
          last_error = case when u.error_given then u.last_error else cur.last_error end
        from (${rows}) u
        where cur.tenant_id = u.tenant_id and cur.influencer_id = u.influencer_id`;
    }
    return inserted;
  });
}

const epochMs = (column: string) => `(extract(epoch from ${column}) * 1000)::bigint`;

/** Points of one influencer in [start, end), oldest first. */
export async function readInfluencerPoints(
  sql: Sql,
  tenantId: string,
  influencerId: string,
  start: number,
  end: number,
): Promise<RawPoint[]> {
  const rows = await sql.unsafe<Record<string, string | null>[]>(
    `select ${epochMs("ts")} as ts, ${COUNTERS.join(", ")}
     from influencer_metrics
     where tenant_id = $1 and influencer_id = $2 and ts >= $3 and ts < $4
     order by ts`,
    [tenantId, influencerId, new Date(start).toISOString(), new Date(end).toISOString()],
  );
  return rows.map((row) => {
    const point = { ts: Number(row.ts) } as RawPoint;
    for (const name of COUNTERS) point[name] = nullableNumber(row[name]);
    return point;
  });
}

/**
 * Per-bucket aggregates of one influencer over [start, end) for buckets `width` ms wide, epoch-aligned (UTC),
 * only for buckets with points. A counter's last value is the one at the bucket's latest point that reported
 * it: `max` over `[epoch ms, value]` arrays picks it in one pass.
 */
export async function readInfluencerBuckets(
  sql: Sql,
  tenantId: string,
  influencerId: string,
  start: number,
  end: number,
  width: number,
): Promise<BucketAggregate[]> {
  const perCounter = COUNTERS.map(
    (name) =>
      `min(${name}) as ${name}_min, max(${name}) as ${name}_max, ` +
      `(max(array[${epochMs("ts")}, ${name}]) filter (where ${name} is not null))[2] as ${name}_last`,
  ).join(",\n       ");
  const rows = await sql.unsafe<Record<string, string | null>[]>(
    `select (${epochMs("ts")} / $5) * $5 as bucket, count(*) as points,
       ${perCounter}
     from influencer_metrics
     where tenant_id = $1 and influencer_id = $2 and ts >= $3 and ts < $4
     group by 1
     order by 1`,
    [tenantId, influencerId, new Date(start).toISOString(), new Date(end).toISOString(), width],
  );
  return rows.map((row) => {
    const counters = {} as BucketAggregate["counters"];
    for (const name of COUNTERS) {
      const last = nullableNumber(row[`${name}_last`]);
      counters[name] =
        last === null ? null : { last, min: Number(row[`${name}_min`]), max: Number(row[`${name}_max`]) };
    }
    return { start: Number(row.bucket), points: Number(row.points), counters };
  });
}

function nullableNumber(value: string | number | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

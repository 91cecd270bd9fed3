// Reads what the recorders wrote (and what the monitor learnt from the broker) into one snapshot: per actor and
// tenant, per tenant, and global. Two pipelined round trips (which actors each tenant has had work for, then
// everything else), so the edge can serve it from Redis alone.
import type { Redis } from "@upstash/redis";
import { globalKeys, keys } from "../keys.ts";
import { type Percentiles, percentilesOf } from "./histogram.ts";
import { epochMinute, type MonitorScope, scopedKey } from "./recorder.ts";

/** A running entry older than this is a crashed delivery's leftover (QStash's longest delivery timeout). */
export const RUNNING_STALE_MS = 15 * 60_000;

/** Counts of the last complete minute. */
export interface MinuteCounts {
  published: number;
  deliveries: number;
  failures: number;
  ok: number;
  retry: number;
  fail: number;
  later: number;
  error: number;
}

/** One actor's queue for one tenant. */
export interface LaneStats {
  actor: string;
  tenantId: string;
  /** Published and not finished (waiting, running, or in backoff between retries). */
  depth: number;
  /** Age of the oldest of them since it became due; null when there is none. */
  oldestAgeSeconds: number | null;
  inFlight: number;
  /** Messages of this lane in the dead-letter queue, as of the monitor's last look at the broker. */
  dlq: number;
  lastMinute: MinuteCounts;
  /** Handler duration and queue latency (due → done) of successful deliveries, this minute and the last. */
  handlerMs: Percentiles;
  queueMs: Percentiles;
}

export interface TenantStats {
  tenantId: string;
  /** Warehouse queries running for the tenant (live tenant-semaphore leases) and its limit. */
  semaphore: { held: number; limit: number | null };
  /** Queries waiting in the tenant's lane for a permit. */
  laneWaiting: number;
  /** `/v1/queries` answers this minute and the last, by cache outcome. */
  cache: { hits: number; misses: number; stale: number; hitRatio: number | null };
  queryMs: Percentiles;
  /** Imports that ended `failed` within the import-failure window. */
  importsFailed: number;
}

export interface BrokerView {
  /** When the monitor last listed the broker's dead-letter queue (ms). */
  checkedAt: number;
  dlqTotal: number;
  /** `<actor>|<tenant>` → messages in the DLQ. */
  dlq: Record<string, number>;
}

export interface Snapshot {
  at: number;
  lanes: LaneStats[];
  tenants: TenantStats[];
  warehouse: { held: number };
  broker: BrokerView | null;
  /** Lifetime counters per tenant (`<metric>|<actor>` → n), when asked for. */
  totals?: Record<string, Record<string, number>>;
  /** Tenants in the index with nothing recorded any more (their keys expired or were deleted). */
  silent: string[];
}

export interface CollectOptions extends MonitorScope {
  /** Only these tenants (a tenant's own view); default: every tenant in the index. */
  tenants?: readonly string[];
  includeTotals?: boolean;
  /** Window of the import-failure count (ms). Default one hour. */
  importFailureWindowMs?: number;
  now?: number;
}

type Pipeline = ReturnType<Redis["pipeline"]>;
export type CollectRedis = Pick<Redis, "pipeline" | "smembers">;

const EMPTY_COUNTS: MinuteCounts = {
  published: 0,
  deliveries: 0,
  failures: 0,
  ok: 0,
  retry: 0,
  fail: 0,
  later: 0,
  error: 0,
};

/**
 * @example const snapshot = await collectSnapshot(redis, { tenants: ["acme"] });
 */
export async function collectSnapshot(redis: CollectRedis, options: CollectOptions = {}): Promise<Snapshot> {
  const now = options.now ?? Date.now();
  const tenants = options.tenants ?? (await indexedTenants(redis, options));
  const actorsOf = await actorsByTenant(redis, tenants);
  const minute = epochMinute(now);
  const pipeline = redis.pipeline();
  let at = 0;
  const queue = (add: (p: Pipeline) => unknown): number => {
    add(pipeline);
    return at++;
  };

  const perTenant = tenants.map((t, i) => ({
    t,
    actors: (actorsOf[i] as string[]).map((actor) => ({
      actor,
      depth: queue((p) => p.zcard(keys.monitorPending(t, actor))),
      oldest: queue((p) => p.zrange(keys.monitorPending(t, actor), 0, 0, { withScores: true })),
      running: queue((p) => p.zcount(keys.monitorRunning(t, actor), now - RUNNING_STALE_MS, "+inf")),
    })),
    previous: queue((p) => p.hgetall(keys.monitorMinute(t, minute - 1))),
    current: queue((p) => p.hgetall(keys.monitorMinute(t, minute))),
    semaphore: queue((p) => p.zcount(keys.semaphore(t), now, "+inf")),
    lane: queue((p) => p.zcard(keys.lane(t))),
    limit: queue((p) => p.hget(keys.tenant(t), "concurrencyLimit")),
    importsFailed: queue((p) =>
      p.zcount(keys.monitorImportFailures(t), now - (options.importFailureWindowMs ?? 3600_000), "+inf"),
    ),
    totals: queue((p) =>
      options.includeTotals ? p.hgetall(keys.monitorTotals(t)) : p.exists(keys.monitorTotals(t)),
    ),
  }));
  const warehouse = queue((p) => p.zcount(globalKeys.warehouseSemaphore, now, "+inf"));
  const broker = queue((p) => p.get(scopedKey(globalKeys.monitorBroker, options)));

  const results = (await pipeline.exec()) as unknown[];
  const brokerView = brokerViewFrom(results[broker]);
  const snapshot: Snapshot = {
    at: now,
    lanes: [],
    tenants: [],
    warehouse: { held: Number(results[warehouse] ?? 0) },
    broker: brokerView,
    silent: [],
  };
  if (options.includeTotals) snapshot.totals = {};

  for (const tenant of perTenant) {
    const previous = counters(results[tenant.previous]);
    const current = counters(results[tenant.current]);
    let active = false;
    for (const lane of tenant.actors) {
      const depth = Number(results[lane.depth] ?? 0);
      const inFlight = Number(results[lane.running] ?? 0);
      const dlq = brokerView?.dlq[`${lane.actor}|${tenant.t}`] ?? 0;
      const lastMinute = minuteCounts(previous, lane.actor);
      const handlerMs = percentilesOf(histogram([previous, current], `run|${lane.actor}|`));
      const queueMs = percentilesOf(histogram([previous, current], `e2e|${lane.actor}|`));
      const busy =
        depth + inFlight + dlq + lastMinute.deliveries + lastMinute.published + handlerMs.count > 0 ||
        current.has(`deliveries|${lane.actor}`) ||
        current.has(`published|${lane.actor}`);
      if (!busy) continue;
      active = true;
      snapshot.lanes.push({
        actor: lane.actor,
        tenantId: tenant.t,
        depth,
        oldestAgeSeconds: oldestAge(results[lane.oldest], now),
        inFlight,
        dlq,
        lastMinute,
        handlerMs,
        queueMs,
      });
    }
    const hits = sum([previous, current], "cache|hit");
    const misses = sum([previous, current], "cache|miss") + sum([previous, current], "cache|pending");
    const stale = sum([previous, current], "cache|stale");
    const answered = hits + misses + stale;
    const totals = results[tenant.totals];
    const importsFailed = Number(results[tenant.importsFailed] ?? 0);
    const semaphoreHeld = Number(results[tenant.semaphore] ?? 0);
    const laneWaiting = Number(results[tenant.lane] ?? 0);
    const hasTotals = options.includeTotals ? totals !== null && totals !== undefined : Number(totals) > 0;
    if (!active && !hasTotals && previous.size + current.size === 0 && importsFailed + semaphoreHeld === 0) {
      snapshot.silent.push(tenant.t);
      continue;
    }
    const limit = results[tenant.limit];
    snapshot.tenants.push({
      tenantId: tenant.t,
      semaphore: { held: semaphoreHeld, limit: limit === null || limit === undefined ? null : Number(limit) },
      laneWaiting,
      cache: { hits, misses, stale, hitRatio: answered > 0 ? round(hits / answered) : null },
      queryMs: percentilesOf(histogram([previous, current], "qlat|")),
      importsFailed,
    });
    if (snapshot.totals && totals) snapshot.totals[tenant.t] = Object.fromEntries(counters(totals));
  }
  return snapshot;
}

async function indexedTenants(redis: CollectRedis, scope: MonitorScope): Promise<string[]> {
  const members = await redis.smembers(scopedKey(globalKeys.monitorTenants, scope));
  return members.map(String).sort();
}

/** Each tenant's actors (the recorders add an actor to its tenant's set on first work). */
async function actorsByTenant(redis: CollectRedis, tenants: readonly string[]): Promise<string[][]> {
  if (tenants.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const t of tenants) pipeline.smembers(keys.monitorActors(t));
  const replies = (await pipeline.exec()) as unknown[];
  return replies.map((reply) => (Array.isArray(reply) ? reply.map(String).sort() : []));
}

function counters(hash: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (!hash || typeof hash !== "object") return out;
  for (const [field, value] of Object.entries(hash as Record<string, unknown>))
    out.set(field, Number(value) || 0);
  return out;
}

function minuteCounts(counts: Map<string, number>, actor: string): MinuteCounts {
  const result = { ...EMPTY_COUNTS };
  for (const name of Object.keys(EMPTY_COUNTS) as (keyof MinuteCounts)[]) {
    result[name] = counts.get(`${name}|${actor}`) ?? 0;
  }
  return result;
}

function histogram(minutes: Map<string, number>[], prefix: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const counts of minutes) {
    for (const [field, value] of counts) {
      if (!field.startsWith(prefix)) continue;
      const bucket = Number(field.slice(prefix.length));
      if (Number.isInteger(bucket)) buckets.set(bucket, (buckets.get(bucket) ?? 0) + value);
    }
  }
  return buckets;
}

function sum(minutes: Map<string, number>[], field: string): number {
  return minutes.reduce((total, counts) => total + (counts.get(field) ?? 0), 0);
}

function oldestAge(reply: unknown, now: number): number | null {
  if (!Array.isArray(reply) || reply.length < 2) return null;
  const due = Number(reply[1]);
  return Number.isFinite(due) ? Math.max(0, round((now - due) / 1000)) : null;
}

function brokerViewFrom(value: unknown): BrokerView | null {
  let parsed = value;
  if (typeof parsed === "string") {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return null;
    }
  }
  if (!parsed || typeof parsed !== "object") return null;
  const view = parsed as Partial<BrokerView>;
  return {
    checkedAt: Number(view.checkedAt ?? 0),
    dlqTotal: Number(view.dlqTotal ?? 0),
    dlq: (view.dlq ?? {}) as Record<string, number>,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

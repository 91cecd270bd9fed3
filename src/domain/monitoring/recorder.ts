// What Fairway records about its own work, in Redis, because a managed broker does not show its internals:
// - publishing: the message joins the actor's pending set for its tenant (scored by when it is due), so depth
//   and the oldest message's age are one ZCARD and one ZRANGE away;
// - delivering: the attempt joins the running set while its handler runs; its outcome and durations are
//   counted per minute (kept two hours) and in totals (for Prometheus counters);
// - queries at the edge: cache outcome and latency; imports: how they ended.
// Pending entries are keyed by the origin message id, which a `later` chain keeps, so a query waiting in its
// lane stays one pending message with its first due time. Recording never fails the work it describes.
import type { Redis } from "@upstash/redis";
import { LuaScript } from "../imports/lua-script.ts";
import { globalKeys, keys } from "../keys.ts";
import { bucketOf, LATENCY_BOUNDS_MS } from "./histogram.ts";
import { COUNT, FINISHED, PUBLISHED, STARTED } from "./scripts.ts";

export type MonitorRedis = Pick<Redis, "evalsha" | "eval" | "sadd" | "zadd" | "zremrangebyscore" | "expire">;

/** Work that belongs to no tenant (the monitor itself, pings) is recorded under this pseudo-tenant. */
export const SYSTEM_TENANT = "_";

/** Per-minute counters live this long. */
export const MINUTE_TTL_SECONDS = 2 * 3600;
/** A pending set untouched this long is dropped (its messages long expired at the broker). */
const PENDING_TTL_SECONDS = 7 * 86_400;
/** How long a finished message's tombstone keeps a late "published" record from reviving it. */
const FINISHED_WINDOW_MS = 15 * 60_000;
const RUNNING_TTL_SECONDS = 3600;
/** Failed imports are remembered this long, for the import-failure rule. */
const IMPORT_FAILURES_KEPT_MS = 24 * 3600_000;

const BOUNDS = LATENCY_BOUNDS_MS.join(",");

const published = new LuaScript(PUBLISHED);
const started = new LuaScript(STARTED);
const finished = new LuaScript(FINISHED);
const counted = new LuaScript(COUNT);

export type DeliveryOutcome = "ok" | "fail" | "retry" | "later" | "error";
export type CacheOutcome = "hit" | "miss" | "stale" | "pending" | "error";

/** Tests and benchmarks give their own namespace, so their global monitoring keys are their own. */
export interface MonitorScope {
  namespace?: string;
}

/** A global monitoring key in a namespace (`fw:mon:tenants` → `fw:mon:tenants:<namespace>`). */
export function scopedKey(key: string, scope: MonitorScope = {}): string {
  return scope.namespace ? `${key}:${scope.namespace}` : key;
}

export function epochMinute(ms: number): number {
  return Math.floor(ms / 60_000);
}

// Tenants this process has already added to the index recently: one SADD per tenant per few minutes.
const announced = new Map<string, number>();
const ANNOUNCE_EVERY_MS = 5 * 60_000;

async function announce(
  redis: MonitorRedis,
  tenantId: string,
  scope: MonitorScope,
  now: number,
): Promise<void> {
  const key = `${scope.namespace ?? ""}\n${tenantId}`;
  if ((announced.get(key) ?? 0) > now) return;
  if (announced.size > 10_000) announced.clear();
  await redis.sadd(scopedKey(globalKeys.monitorTenants, scope), tenantId);
  announced.set(key, now + ANNOUNCE_EVERY_MS);
}

export interface PublishedRecord extends MonitorScope {
  actor: string;
  tenantId: string;
  messageId: string;
  /** When the message becomes deliverable (publish time plus any delay), ms. */
  dueAt: number;
  now?: number;
}

export async function recordPublished(redis: MonitorRedis, record: PublishedRecord): Promise<void> {
  const now = record.now ?? Date.now();
  const t = record.tenantId;
  await Promise.all([
    announce(redis, t, record, now),
    published.run(
      redis,
      [
        keys.monitorPending(t, record.actor),
        keys.monitorFinished(t, record.actor),
        keys.monitorMinute(t, epochMinute(now)),
        keys.monitorTotals(t),
        keys.monitorActors(t),
      ],
      [record.messageId, record.dueAt, record.actor, PENDING_TTL_SECONDS, MINUTE_TTL_SECONDS],
    ),
  ]);
}

export interface DeliveryRecord extends MonitorScope {
  actor: string;
  tenantId: string;
  /** Unique per attempt: message id and retry number. */
  token: string;
  now?: number;
}

export async function recordStarted(redis: MonitorRedis, record: DeliveryRecord): Promise<void> {
  const now = record.now ?? Date.now();
  await Promise.all([
    announce(redis, record.tenantId, record, now),
    started.run(
      redis,
      [keys.monitorRunning(record.tenantId, record.actor), keys.monitorActors(record.tenantId)],
      [record.token, now, RUNNING_TTL_SECONDS, record.actor],
    ),
  ]);
}

export interface FinishedRecord extends DeliveryRecord {
  /** The message id its `later` chain started with (the pending entry's member). */
  originId: string;
  outcome: DeliveryOutcome;
  runMs: number;
}

/** Returns the queue latency (due → done) in ms, or null when the message was not known as pending. */
export async function recordFinished(redis: MonitorRedis, record: FinishedRecord): Promise<number | null> {
  const now = record.now ?? Date.now();
  const t = record.tenantId;
  const announcing = announce(redis, t, record, now);
  const latency = await finished.run<number>(
    redis,
    [
      keys.monitorRunning(t, record.actor),
      keys.monitorPending(t, record.actor),
      keys.monitorFinished(t, record.actor),
      keys.monitorMinute(t, epochMinute(now)),
      keys.monitorTotals(t),
      keys.monitorActors(t),
    ],
    [
      record.token,
      record.originId,
      now,
      record.outcome,
      record.actor,
      Math.max(0, Math.round(record.runMs)),
      MINUTE_TTL_SECONDS,
      FINISHED_WINDOW_MS,
      PENDING_TTL_SECONDS,
      BOUNDS,
    ],
  );
  await announcing;
  return latency >= 0 ? latency : null;
}

/** The counter fields one `/v1/queries` answer adds to: how the cache did and how long the request took. */
export function queryFields(cache: CacheOutcome, ms: number): string[] {
  return ["queries", `cache|${cache}`, `qlat|${bucketOf(ms)}`];
}

/** Adds counts to one minute of a tenant (and its totals) in one script. */
export async function recordCounts(
  redis: MonitorRedis,
  tenantId: string,
  minute: number,
  counts: ReadonlyMap<string, number>,
  scope: MonitorScope = {},
  now = Date.now(),
): Promise<void> {
  if (counts.size === 0) return;
  const pairs: (string | number)[] = [];
  for (const [field, n] of counts) pairs.push(field, n);
  await Promise.all([
    announce(redis, tenantId, scope, now),
    counted.run(
      redis,
      [keys.monitorMinute(tenantId, minute), keys.monitorTotals(tenantId)],
      [MINUTE_TTL_SECONDS, ...pairs],
    ),
  ]);
}

/** An import ended; failed ones are also remembered for the import-failure rule. */
export async function recordImportFinished(
  redis: MonitorRedis,
  tenantId: string,
  status: string,
  importId = "",
  scope: MonitorScope = {},
  now = Date.now(),
): Promise<void> {
  const work: Promise<unknown>[] = [
    announce(redis, tenantId, scope, now),
    counted.run(
      redis,
      [keys.monitorMinute(tenantId, epochMinute(now)), keys.monitorTotals(tenantId)],
      [MINUTE_TTL_SECONDS, `imports|${status}`, 1],
    ),
  ];
  if (status === "failed") {
    const key = keys.monitorImportFailures(tenantId);
    work.push(
      (async () => {
        await redis.zadd(key, { score: now, member: importId || String(now) });
        await redis.zremrangebyscore(key, "-inf", now - IMPORT_FAILURES_KEPT_MS);
        await redis.expire(key, Math.ceil(IMPORT_FAILURES_KEPT_MS / 1000));
      })(),
    );
  }
  await Promise.all(work);
}

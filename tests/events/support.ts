// Shared by the ingestion tests: random but plausible events, the brute-force answers they are checked
// against, and readers for what ingestion wrote (rollups, leaderboards).
import type { Redis } from "@upstash/redis";
import type { IngestEvent } from "../../src/domain/events/index.ts";
import { keys } from "../../src/domain/keys.ts";
import {
  epochMinute,
  LEADERBOARD_METRICS,
  type LeaderboardMetric,
  readSets,
  SPEND_SCALE,
} from "../../src/domain/leaderboard/index.ts";
import type { Warehouse } from "../../src/warehouse/db.ts";

/** A small deterministic PRNG, so a failing case can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

export interface EventOptions {
  /** Events fall in [from, to) (epoch ms). */
  from: number;
  to: number;
  ads?: number;
  seed?: number;
  idPrefix?: string;
}

const KINDS = ["impression", "impression", "impression", "view", "click", "click", "conversion"] as const;
const PLACES = [
  ["US", "Austin"],
  ["US", "Boston"],
  ["FR", "Lyon"],
  ["DE", "Berlin"],
] as const;

/** `n` normalised events with a few ads, channels and places, costs with up to 6 decimals. */
export function makeEvents(n: number, options: EventOptions): IngestEvent[] {
  const random = seeded(options.seed ?? 1);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const ads = options.ads ?? 7;
  return Array.from({ length: n }, (_, i) => {
    const [country, city] = pick(PLACES);
    const ts = options.from + Math.floor(random() * (options.to - options.from));
    const kind = pick(KINDS);
    return {
      id: `${options.idPrefix ?? "e"}-${i}`,
      ts: new Date(ts).toISOString(),
      kind,
      channel: pick(["google", "facebook", "email"]),
      campaign: pick(["spring", "summer"]),
      ad: `ad-${Math.floor(random() * random() * ads)}`,
      country,
      city,
      cost: kind === "impression" ? "0" : (Math.floor(random() * 2_000_000) / 1_000_000).toString(),
      revenue: kind === "conversion" ? "12.5" : "0",
    };
  });
}

/** What one event adds to an ad's score on a metric's leaderboard: 1 per matching kind, spend in millionths. */
export function leaderboardAmount(event: IngestEvent, metric: LeaderboardMetric): number {
  if (metric === "spend") return Math.round(Number(event.cost) * SPEND_SCALE);
  return event.kind === metric.slice(0, -1) ? 1 : 0;
}

/** Minute → ad → value, computed from events by brute force (spend in millionths, like the sets). */
export function bruteForceLeaderboards(
  events: readonly IngestEvent[],
  metric: LeaderboardMetric,
): Map<number, Map<string, number>> {
  const byMinute = new Map<number, Map<string, number>>();
  for (const event of events) {
    const amount = leaderboardAmount(event, metric);
    if (amount === 0) continue;
    const minute = epochMinute(Date.parse(event.ts));
    const ads = byMinute.get(minute) ?? new Map<string, number>();
    ads.set(event.ad, (ads.get(event.ad) ?? 0) + amount);
    byMinute.set(minute, ads);
  }
  return byMinute;
}

/** What Redis holds for a tenant's minutes, in the same shape as `bruteForceLeaderboards`. */
export async function storedLeaderboards(
  redis: Redis,
  tenantId: string,
  metric: LeaderboardMetric,
  minutes: readonly number[],
): Promise<Map<number, Map<string, number>>> {
  const sets = await readSets(
    redis,
    minutes.map((minute) => keys.top(tenantId, metric, minute)),
  );
  const byMinute = new Map<number, Map<string, number>>();
  minutes.forEach((minute, i) => {
    const set = sets[i] as Map<string, number>;
    if (set.size > 0) byMinute.set(minute, set);
  });
  return byMinute;
}

/** Every minute the events fall in. */
export function minutesOf(events: readonly IngestEvent[]): number[] {
  return [...new Set(events.map((event) => epochMinute(Date.parse(event.ts))))].sort((a, b) => a - b);
}

export { LEADERBOARD_METRICS };

export interface Totals {
  impressions: number;
  views: number;
  clicks: number;
  conversions: number;
  /** Exact decimals with 6 places. */
  spend: string;
  revenue: string;
}

/** Totals of a rollup table for a tenant: the same for every grain when ingestion is exact. */
export async function rollupTotals(wh: Warehouse, table: string, tenantId: string): Promise<Totals> {
  const [row] = await wh.sql.unsafe(
    `SELECT coalesce(sum(impressions), 0)::int AS impressions, coalesce(sum(views), 0)::int AS views,
       coalesce(sum(clicks), 0)::int AS clicks, coalesce(sum(conversions), 0)::int AS conversions,
       coalesce(sum(spend), 0)::text AS spend, coalesce(sum(revenue), 0)::text AS revenue
     FROM ${table} WHERE tenant_id = $1`,
    [tenantId],
  );
  return row as unknown as Totals;
}

/** The same totals straight from raw events. */
export async function rawTotals(wh: Warehouse, tenantId: string): Promise<Totals> {
  const [row] = await wh.sql.unsafe(
    `SELECT count(*) FILTER (WHERE kind = 'impression')::int AS impressions,
       count(*) FILTER (WHERE kind = 'view')::int AS views, count(*) FILTER (WHERE kind = 'click')::int AS clicks,
       count(*) FILTER (WHERE kind = 'conversion')::int AS conversions,
       coalesce(sum(cost), 0)::text AS spend, coalesce(sum(revenue), 0)::text AS revenue
     FROM ad_events WHERE tenant_id = $1`,
    [tenantId],
  );
  return row as unknown as Totals;
}

/** Totals computed in TypeScript from the events themselves. */
export function expectedTotals(events: readonly IngestEvent[]): Totals {
  const count = (kind: string) => events.filter((event) => event.kind === kind).length;
  const sum = (field: "cost" | "revenue") =>
    events.reduce((total, event) => total + Math.round(Number(event[field]) * SPEND_SCALE), 0);
  const money = (micros: number) => (micros / SPEND_SCALE).toFixed(6);
  return {
    impressions: count("impression"),
    views: count("view"),
    clicks: count("click"),
    conversions: count("conversion"),
    spend: money(sum("cost")),
    revenue: money(sum("revenue")),
  };
}

/** A tenant id of its own for a test (tenant ids: lower-case letters, digits, dashes). */
export function testTenant(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Deletes every key of the given tenants. */
export async function dropTenantKeys(redis: Redis, tenantIds: readonly string[]): Promise<void> {
  for (const tenantId of tenantIds) {
    const found = await redis.keys(`{t:${tenantId}}:*`);
    if (found.length > 0) await redis.del(...found);
  }
}

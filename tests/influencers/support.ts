// Shared set-up for the influencer tests: tenants in the warehouse, clean-up of everything a run wrote, and
// the brute-force reference the metrics answers are checked against.
import { randomBytes } from "node:crypto";
import type { Redis } from "@upstash/redis";
import type { Sql } from "postgres";
import { keys, tenantTag } from "../../src/domain/keys.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";

/** A tenant row, so the sink may create `influencers` rows for it (they reference `tenants`). */
export async function createTenantRow(sql: Sql, id: string): Promise<void> {
  await sql`insert into tenants (id, name, api_key_hash) values (${id}, ${`influencer test ${id}`}, ${randomBytes(32).toString("hex")})
            on conflict do nothing`;
}

/** Deletes the tenants' rows (their `influencers` rows cascade), their points, and their Redis keys. */
export async function dropTenants(sql: Sql, redis: Redis, tenantIds: readonly string[]): Promise<void> {
  if (tenantIds.length === 0) return;
  await sql`delete from influencer_metrics where tenant_id = any(${sql.array([...tenantIds], 25)}::text[])`;
  await sql`delete from influencers where tenant_id = any(${sql.array([...tenantIds], 25)}::text[])`;
  await sql`delete from tenants where id = any(${sql.array([...tenantIds], 25)}::text[])`;
  for (const id of tenantIds) {
    const found = await redis.keys(`${tenantTag(id)}*`);
    if (found.length > 0) await redis.del(...found);
  }
}

export interface StoredPoint {
  influencer_id: string;
  ts: number;
  followers: number | null;
}

/** Every stored point of a tenant, by influencer, oldest first. */
export async function storedPoints(sql: Sql, tenantId: string): Promise<Map<string, number[]>> {
  const rows = await sql<{ influencer_id: string; ms: string }[]>`
    select influencer_id, (extract(epoch from ts) * 1000)::bigint as ms
    from influencer_metrics where tenant_id = ${tenantId} order by influencer_id, ts`;
  const byInfluencer = new Map<string, number[]>();
  for (const row of rows) {
    const list = byInfluencer.get(row.influencer_id) ?? [];
    list.push(Number(row.ms));
    byInfluencer.set(row.influencer_id, list);
  }
  return byInfluencer;
}

export { waitFor } from "../support/wait.ts";
export { keys };

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

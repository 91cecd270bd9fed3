// Tenants live twice: Redis holds the serving copy the edge reads on every request, Postgres the system of
// record. `tenant-sync` copies an edge change to Postgres; `restoreTenants` copies Postgres back into Redis
// for tenants Redis lost, so losing Redis does not lock every tenant out.
import type { Redis } from "@upstash/redis";
import type { Sql } from "postgres";
import { tenantSyncMessage } from "../src/domain/actor-messages.ts";
import { globalKeys, keys } from "../src/domain/keys.ts";
import { type TenantRecord, tenantFromHash, tenantToHash } from "../src/domain/tenants.ts";
import { defineActor } from "./define.ts";
import { ok } from "./outcome.ts";

export const tenantSyncActor = defineActor({
  name: "tenant-sync",
  schema: tenantSyncMessage,
  async handler(message, ctx) {
    // Messages may arrive out of order: whichever of Redis's copy and the snapshot is newer wins, so an old
    // message can never undo a newer change.
    const serving = tenantFromHash(await ctx.redis.hgetall(keys.tenant(message.tenantId)));
    const record =
      serving && serving.id === message.tenantId && serving.revision >= message.snapshot.revision
        ? serving
        : message.snapshot;
    await upsertTenant(ctx.sql, record);
    return ok({ tenantId: record.id, revision: record.revision });
  },
});

export async function upsertTenant(sql: Sql, record: TenantRecord): Promise<void> {
  await sql`
    insert into tenants (id, name, api_key_hash, concurrency_limit, rate_limit, rate_limit_window_seconds,
                         created_at, disabled_at)
    values (${record.id}, ${record.name}, ${record.apiKeyHash}, ${record.concurrencyLimit}, ${record.rateLimit},
            ${record.rateLimitWindowSeconds}, ${new Date(record.createdAt)},
            ${record.disabledAt === null ? null : new Date(record.disabledAt)})
    on conflict (id) do update set
      name = excluded.name,
      api_key_hash = excluded.api_key_hash,
      concurrency_limit = excluded.concurrency_limit,
      rate_limit = excluded.rate_limit,
      rate_limit_window_seconds = excluded.rate_limit_window_seconds,
      disabled_at = excluded.disabled_at`;
}

/**
 * KEYS[1] the tenant hash, KEYS[2] the tenant set. ARGV[1] the tenant id, then field, value, …
 * Writes the hash only when it does not exist (Redis's copy may be newer than Postgres). Returns 1 if written.
 */
const RESTORE_TENANT_LUA = `
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

interface TenantRow {
  id: string;
  name: string;
  api_key_hash: string;
  concurrency_limit: number;
  rate_limit: number;
  rate_limit_window_seconds: number;
  created_at: string;
  disabled_at: string | null;
}

function recordOfRow(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    apiKeyHash: row.api_key_hash,
    concurrencyLimit: row.concurrency_limit,
    rateLimit: row.rate_limit,
    rateLimitWindowSeconds: row.rate_limit_window_seconds,
    createdAt: new Date(row.created_at).getTime(),
    disabledAt: row.disabled_at === null ? null : new Date(row.disabled_at).getTime(),
    revision: 1,
  };
}

/**
 * Loads every tenant from Postgres into Redis where Redis has none; returns how many were restored.
 * The actors host runs it at startup. (On a Redis Cluster the two keys live on different slots: run it
 * per key there.)
 */
export async function restoreTenants(sql: Sql, redis: Redis): Promise<{ restored: number; total: number }> {
  const rows = await sql<TenantRow[]>`
    select id, name, api_key_hash, concurrency_limit, rate_limit, rate_limit_window_seconds, created_at,
           disabled_at
    from tenants order by created_at`;
  let restored = 0;
  // One pipeline per hundred tenants: a large tenant table restores in a few round trips.
  for (let start = 0; start < rows.length; start += 100) {
    const pipeline = redis.pipeline();
    for (const row of rows.slice(start, start + 100)) {
      const record = recordOfRow(row);
      pipeline.eval(
        RESTORE_TENANT_LUA,
        [keys.tenant(record.id), globalKeys.tenants],
        [record.id, ...Object.entries(tenantToHash(record)).flat()],
      );
    }
    const written = await pipeline.exec();
    restored += written.filter((value) => Number(value) === 1).length;
  }
  return { restored, total: rows.length };
}

export interface RestoreLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Runs `restoreTenants` in the background until it succeeds once (Redis or Postgres may still be starting),
 * giving up after `attempts`. The actors host calls it at startup; it never delays or fails the host.
 */
export function restoreTenantsInBackground(
  sql: Sql,
  redis: Redis,
  log: RestoreLog,
  options: { attempts?: number; delayMs?: number } = {},
): Promise<void> {
  const attempts = options.attempts ?? 60;
  const delayMs = options.delayMs ?? 500;
  return (async () => {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const { restored, total } = await restoreTenants(sql, redis);
        log.info("tenants restored to Redis", { restored, total });
        return;
      } catch (error) {
        if (attempt === attempts) {
          log.warn("could not restore tenants to Redis", {
            error: error instanceof Error ? error.message : String(error),
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  })();
}

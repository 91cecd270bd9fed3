// The operator's view of tenants: create, list, change. Redis holds the serving copy the edge reads on every
// request; each change is also published to the `tenant-sync` actor, which writes Postgres (the system of
// record) and from which Redis can be restored.
import type { Redis } from "@upstash/redis/cloudflare";
import { globalKeys, keys } from "../../domain/keys.ts";
import {
  DEFAULT_LIMITS,
  hashApiKey,
  newApiKey,
  newTenantId,
  type TenantLimits,
  type TenantRecord,
  tenantFromHash,
  tenantToHash,
} from "../../domain/tenants.ts";
import type { Publisher } from "../../publisher/index.ts";

/**
 * KEYS[1] the tenant hash. ARGV: field, value, field, value, …
 * Sets the fields and bumps `revision` in one step, only when the tenant exists.
 * Returns the new revision, or -1 when there is no such tenant.
 */
const UPDATE_TENANT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HINCRBY', KEYS[1], 'revision', 1)
`;

export interface TenantChange extends Partial<TenantLimits> {
  name?: string;
  disabled?: boolean;
}

export class TenantStore {
  constructor(
    private readonly redis: Redis,
    private readonly publisher: Publisher,
  ) {}

  /** A new tenant and its API key (the only time the key exists in clear). */
  async create(
    name: string,
    limits: Partial<TenantLimits>,
  ): Promise<{ record: TenantRecord; apiKey: string }> {
    const id = newTenantId();
    const apiKey = newApiKey(id);
    const record: TenantRecord = {
      id,
      name,
      apiKeyHash: await hashApiKey(apiKey),
      ...DEFAULT_LIMITS,
      ...definedOnly(limits),
      createdAt: Date.now(),
      disabledAt: null,
      revision: 1,
    };
    // Published first: if that fails nothing exists yet, and the actor falls back to the message's snapshot
    // when it runs before the Redis write below lands.
    await this.sync(record);
    const pipeline = this.redis.pipeline();
    pipeline.hset(keys.tenant(id), tenantToHash(record));
    pipeline.sadd(globalKeys.tenants, id);
    await pipeline.exec();
    return { record, apiKey };
  }

  async get(id: string): Promise<TenantRecord | null> {
    return tenantFromHash(await this.redis.hgetall(keys.tenant(id)));
  }

  /** Every tenant, oldest first. */
  async list(): Promise<TenantRecord[]> {
    const ids = (await this.redis.smembers(globalKeys.tenants)).map(String);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.tenant(id));
    const hashes = (await pipeline.exec()) as (Record<string, unknown> | null)[];
    return hashes
      .map((hash) => tenantFromHash(hash))
      .filter((record): record is TenantRecord => record !== null)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Applies a change; null when the tenant does not exist. */
  async update(id: string, change: TenantChange): Promise<TenantRecord | null> {
    const fields: Record<string, string> = {};
    const { disabled, ...rest } = definedOnly(change);
    const current = await this.get(id);
    if (!current) return null;
    const next = { ...current, ...rest };
    if (disabled !== undefined) next.disabledAt = disabled ? (current.disabledAt ?? Date.now()) : null;
    const hash = tenantToHash(next);
    for (const name of Object.keys(change) as (keyof TenantChange)[]) {
      const field = name === "disabled" ? "disabledAt" : name;
      if (change[name] !== undefined) fields[field] = hash[field] as string;
    }
    return this.write(id, fields);
  }

  /** A new API key; the old one stops working at once. */
  async rotateKey(id: string): Promise<{ record: TenantRecord; apiKey: string } | null> {
    const apiKey = newApiKey(id);
    const record = await this.write(id, { apiKeyHash: await hashApiKey(apiKey) });
    return record && { record, apiKey };
  }

  private async write(id: string, fields: Record<string, string>): Promise<TenantRecord | null> {
    const revision = await this.redis.eval(
      UPDATE_TENANT_LUA,
      [keys.tenant(id)],
      Object.entries(fields).flat(),
    );
    if (Number(revision) < 0) return null;
    const record = await this.get(id);
    if (!record) return null;
    await this.sync(record);
    return record;
  }

  private async sync(record: TenantRecord): Promise<void> {
    await this.publisher.publish({
      actor: "tenant-sync",
      body: { tenantId: record.id, snapshot: record },
      // The nonce keeps a revision number reused after a restore from Postgres from being taken for a duplicate.
      deduplicationId: `tenant-sync-${record.id}-${record.revision}-${crypto.randomUUID().slice(0, 8)}`,
    });
  }
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

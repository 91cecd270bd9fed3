// The global warehouse semaphore: one limit for every tenant together, shared out by fair share (see
// lua/warehouse-lib.lua). Its keys hash to one slot of their own, apart from every tenant's.
import type { Redis } from "@upstash/redis";
import { globalKeys } from "../../src/domain/keys.ts";
import { runLua } from "../semaphore/lua-script.ts";
import { laneScripts } from "./scripts.ts";

/** The semaphore and its waiting set; they must hash to the same Cluster slot. */
export interface WarehouseKeys {
  semaphore: string;
  waiting: string;
}

/**
 * The semaphore at `semaphore` and a waiting set on the same slot: `<key>:wait` when the key has a hash tag,
 * else `{<key>}:wait` (whose tag is the whole key, so both hash alike).
 */
export function warehouseKeysFor(semaphore: string): WarehouseKeys {
  return { semaphore, waiting: /\{[^}]+\}/.test(semaphore) ? `${semaphore}:wait` : `{${semaphore}}:wait` };
}

/** `wh:sem` and `{wh:sem}:wait`. */
export const WAREHOUSE_KEYS: WarehouseKeys = warehouseKeysFor(globalKeys.warehouseSemaphore);

export interface WarehouseSemaphoreSettings {
  /** Warehouse permits in all (WAREHOUSE_CONCURRENCY). */
  limit: number;
  leaseTtlMs: number;
  /** How long a refused tenant's claim on the next free permit lasts without another attempt. */
  claimTtlMs: number;
  /** Default: `wh:sem` and `{wh:sem}:wait`; tests use their own. */
  keys?: WarehouseKeys;
}

export type WarehouseAttempt =
  /** `room`: the tenant could take another permit right away (false: the warehouse still holds it back). */
  | { status: "granted"; expiresAt: number; share: number; room: boolean }
  /** No permit free. */
  | { status: "full"; held: number; share: number }
  /** Permits are free but kept for tenants below their fair share; this one is at or above it. */
  | { status: "yield"; held: number; share: number };

/** The lease member for a tenant's token: the tenant is part of it so holders can be counted per tenant. */
export function warehouseMember(token: string, tenantId: string): string {
  return `${token}:${tenantId}`;
}

export class WarehouseSemaphore {
  readonly key: string;
  readonly waitingKey: string;

  constructor(
    private readonly redis: Redis,
    readonly settings: WarehouseSemaphoreSettings,
  ) {
    this.key = settings.keys?.semaphore ?? WAREHOUSE_KEYS.semaphore;
    this.waitingKey = settings.keys?.waiting ?? WAREHOUSE_KEYS.waiting;
    if (!Number.isInteger(settings.limit) || settings.limit < 1) {
      throw new RangeError("warehouse limit must be an integer >= 1");
    }
  }

  /** `moreWaiting`: other queries of this tenant wait behind this one, so its claim is kept if granted. */
  async acquire(tenantId: string, token: string, moreWaiting: boolean): Promise<WarehouseAttempt> {
    const s = this.settings;
    const [code, a, share, room] = await runLua<[number, number, number, number?]>(
      this.redis,
      laneScripts.warehouseAcquire,
      [this.key, this.waitingKey],
      [tenantId, token, s.limit, s.leaseTtlMs, s.claimTtlMs, moreWaiting ? 1 : 0],
    );
    switch (code) {
      case 1:
        return { status: "granted", expiresAt: a, share, room: room === 1 };
      case 0:
        return { status: "full", held: a, share };
      case 2:
        return { status: "yield", held: a, share };
      default:
        throw new Error(`warehouse-acquire.lua: unknown code ${code}`);
    }
  }

  /** Releases the lease (if given) and names the waiting tenant that should take the free permit, if any. */
  async release(member: string | null): Promise<{ released: boolean; next: string | null }> {
    const [released, next] = await runLua<[number, unknown]>(
      this.redis,
      laneScripts.warehouseRelease,
      [this.key, this.waitingKey],
      [member ?? "", this.settings.limit],
    );
    return { released: released === 1, next: next === "" || next === null ? null : String(next) };
  }

  /** Keeps the tenant's claim for at least `ms` (while its refused query is parked). */
  async claim(tenantId: string, ms: number): Promise<void> {
    await runLua(this.redis, laneScripts.warehouseClaim, [this.waitingKey], [tenantId, ms]);
  }
}

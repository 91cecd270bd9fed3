// The query actor's settings, read once from the environment.
import { type Env, readInt } from "../env.ts";
import type { PermitSettings } from "../lanes/permits.ts";
import { type WarehouseKeys, warehouseKeysFor } from "../lanes/warehouse-semaphore.ts";

export interface QueryActorConfig {
  /** Queries running on the warehouse at once, all tenants together (WAREHOUSE_CONCURRENCY). */
  warehouseConcurrency: number;
  /** A tenant's limit when its record has none (the tenants table's default). */
  defaultTenantConcurrency: number;
  /** Lease of both permits (QUERY_LEASE_TTL_MS); heartbeats renew it every third of it. */
  leaseTtlMs: number;
  /**
   * Postgres `statement_timeout` (QUERY_STATEMENT_TIMEOUT_MS), below the lease TTL: if this host dies
   * mid-query, the statement stops before a lease taken when it started can lapse, so a reclaimed permit
   * never runs beside a statement still holding the warehouse.
   */
  statementTimeoutMs: number;
  /** How long a delivery waits in line before it parks and answers `later` (QUERY_HOLD_MS). */
  holdMs: number;
  /** Between two attempts of a waiting delivery that hears no release (QUERY_POLL_MS). */
  pollMs: number;
  /** First `later` delay of a parked query (QUERY_PARK_DELAY_MS), doubled per park, at most 60 s. */
  parkDelayMs: number;
  /** Deliveries that may answer "retry" for a transient warehouse failure before it becomes an error result. */
  transientRetries: number;
  /** Default `wh:sem` / `{wh:sem}:wait`; tests and benchmarks use their own (WAREHOUSE_SEMAPHORE_KEY). */
  warehouseKeys?: WarehouseKeys;
}

export function readQueryActorConfig(env: Env = process.env): QueryActorConfig {
  const leaseTtlMs = readInt(env, "QUERY_LEASE_TTL_MS", 30_000, 1000);
  const config: QueryActorConfig = {
    warehouseConcurrency: readInt(env, "WAREHOUSE_CONCURRENCY", 8, 1),
    defaultTenantConcurrency: 4,
    leaseTtlMs,
    statementTimeoutMs: readInt(env, "QUERY_STATEMENT_TIMEOUT_MS", Math.max(500, leaseTtlMs - 5000), 1),
    holdMs: readInt(env, "QUERY_HOLD_MS", 2000, 0),
    pollMs: readInt(env, "QUERY_POLL_MS", 100, 5),
    parkDelayMs: readInt(env, "QUERY_PARK_DELAY_MS", 2000, 1000),
    transientRetries: 2,
    warehouseKeys: env.WAREHOUSE_SEMAPHORE_KEY ? warehouseKeysFor(env.WAREHOUSE_SEMAPHORE_KEY) : undefined,
  };
  checkQueryActorConfig(config);
  return config;
}

export function checkQueryActorConfig(config: QueryActorConfig): void {
  if (config.statementTimeoutMs >= config.leaseTtlMs) {
    throw new Error(
      `QUERY_STATEMENT_TIMEOUT_MS (${config.statementTimeoutMs}) must be below QUERY_LEASE_TTL_MS (${config.leaseTtlMs})`,
    );
  }
}

/** What the permit gate needs, derived from the actor's settings. */
export function permitSettings(config: QueryActorConfig, statusTtlSeconds: number): PermitSettings {
  return {
    leaseTtlMs: config.leaseTtlMs,
    warehouseConcurrency: config.warehouseConcurrency,
    defaultTenantConcurrency: config.defaultTenantConcurrency,
    holdMs: config.holdMs,
    pollMs: config.pollMs,
    // A waiting delivery attempts at least every pollMs; a few missed polls mean it is gone.
    waitTtlMs: Math.max(1000, 10 * config.pollMs),
    wakeGraceMs: 10_000,
    parkDelayMs: config.parkDelayMs,
    maxParkDelayMs: 60_000,
    statusTtlSeconds,
    warehouseKeys: config.warehouseKeys,
  };
}

// Every Redis key Fairway uses, named in one place. Tenant keys share the hash tag `{t:<tenant>}`, so a script
// touching several of one tenant's keys stays on one Redis Cluster slot; the few global keys are named `fw:…`.

/** The hash tag that prefixes every key of one tenant. */
export function tenantTag(tenantId: string): string {
  return `{t:${tenantId}}`;
}

export const keys = {
  /** Hash: the tenant's profile as the edge needs it on every request (name, limits, status). */
  tenant: (t: string) => `${tenantTag(t)}:tenant`,
  /** String: the tenant's data version; bumping it retires every cached answer at once. */
  dataVersion: (t: string) => `${tenantTag(t)}:ver`,
  /** String: one cached query result. */
  cache: (t: string, hash: string) => `${tenantTag(t)}:cache:${hash}`,
  /** String (SET NX): the query id currently computing this hash, for single-flight. */
  inflight: (t: string, hash: string) => `${tenantTag(t)}:inflight:${hash}`,
  /** Hash: one query's status, as `GET /v1/queries/:id` reads it. */
  query: (t: string, queryId: string) => `${tenantTag(t)}:query:${queryId}`,
  /** Sorted set: the tenant semaphore's leases, scored by expiry. */
  semaphore: (t: string) => `${tenantTag(t)}:sem`,
  /** List / sorted set: queries waiting for a permit in this tenant's lane, first come first served. */
  lane: (t: string) => `${tenantTag(t)}:lane`,
  /** Stream: completion events the edge polls. */
  done: (t: string) => `${tenantTag(t)}:done`,
  /** Prefix for the tenant's rate-limit counters (@upstash/ratelimit appends its own suffix). */
  rateLimit: (t: string) => `${tenantTag(t)}:rl`,
  /** Sorted set: ads scored by a metric within one UTC minute (epoch minute). */
  top: (t: string, metric: string, minute: number) => `${tenantTag(t)}:top:${metric}:${minute}`,
} as const;

export const globalKeys = {
  /** String: tenant id for a SHA-256 hex API-key hash. */
  apiKey: (keyHash: string) => `fw:apikey:${keyHash}`,
  /** Set: every tenant id, for the operator's listing. */
  tenants: "fw:tenants",
  /** Sorted set: the global warehouse semaphore's leases. */
  warehouseSemaphore: "wh:sem",
} as const;

// Every Redis key Fairway uses, named in one place. Tenant keys share the hash tag `{t:<tenant>}`, so a script
// touching several of one tenant's keys stays on one Redis Cluster slot; the few global keys are named `fw:…`.

/** The hash tag that prefixes every key of one tenant. */
export function tenantTag(tenantId: string): string {
  return `{t:${tenantId}}`;
}

export const keys = {
  /** Hash: the tenant's serving record (`src/domain/tenants.ts`: key hash, name, limits, status, revision). */
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
  /** Sorted set: queries waiting for a permit in this tenant's lane, scored by askedAt (first come first served). */
  lane: (t: string) => `${tenantTag(t)}:lane`,
  /** Sorted set: when each lane entry lapses unless its delivery refreshes it (Redis clock, ms). */
  laneExpiry: (t: string) => `${tenantTag(t)}:lane:exp`,
  /** Hash: query id → message body, for lane entries whose delivery left (parked) and must be woken. */
  laneParked: (t: string) => `${tenantTag(t)}:lane:parked`,
  /** String (short TTL): the warehouse refused this tenant, so only its lane's first query may try again. */
  laneWarehouseWait: (t: string) => `${tenantTag(t)}:lane:whwait`,
  /** Stream: completion events the edge polls. */
  done: (t: string) => `${tenantTag(t)}:done`,
  /** Prefix for the tenant's rate-limit counters (@upstash/ratelimit appends its own suffix). */
  rateLimit: (t: string) => `${tenantTag(t)}:rl`,
  /** Sorted set: ads scored by a metric within one UTC minute (epoch minute). */
  top: (t: string, metric: string, minute: number) => `${tenantTag(t)}:top:${metric}:${minute}`,
  /** String (JSON): the top entries of one `top` set, rewritten with it, so a one-minute list is one GET. */
  topSnapshot: (t: string, metric: string, minute: number) => `${tenantTag(t)}:top100:${metric}:${minute}`,
  /** String: set once an ingest attempt's leaderboard increments were added, so they are never added twice. */
  topApplied: (t: string, attemptId: string) => `${tenantTag(t)}:topmark:${attemptId}`,
  /** Sorted set: scratch space for one `GET /v1/ads/top` union, deleted by the same script. */
  topScratch: (t: string, id: string) => `${tenantTag(t)}:topscratch:${id}`,
  /** Sorted set: the influencers the tenant has registered (tracked or stopped), scored by first registration. */
  influencers: (t: string) => `${tenantTag(t)}:influencers`,
  /** Hash: one influencer's tracking settings, its collection loop's cursor and its last-seen state. */
  influencer: (t: string, influencerId: string) => `${tenantTag(t)}:influencer:${influencerId}`,
  /** Hash: one CSV import's status (edge upload fields + the import actor's copy of its `imports` row). */
  importRecord: (t: string, importId: string) => `${tenantTag(t)}:import:${importId}`,
  /** Sorted set: the tenant's imports, scored by creation time (ms). */
  imports: (t: string) => `${tenantTag(t)}:imports`,
  /** Sorted set: an import's stored row errors (JSON members), scored by line number. */
  importErrors: (t: string, importId: string) => `${tenantTag(t)}:import:${importId}:errors`,
  /** Sorted set: messages published to an actor and not yet finished, by origin message id, scored by due time. */
  monitorPending: (t: string, actor: string) => `${tenantTag(t)}:mon:pending:${actor}`,
  /** Sorted set: recently finished origin message ids (a late "published" record must not revive them). */
  monitorFinished: (t: string, actor: string) => `${tenantTag(t)}:mon:finished:${actor}`,
  /** Sorted set: deliveries running now, scored by start time (ms). */
  monitorRunning: (t: string, actor: string) => `${tenantTag(t)}:mon:running:${actor}`,
  /** Hash: per-minute counters and latency histograms (`<metric>|<actor>[|<bucket>]`), kept two hours. */
  monitorMinute: (t: string, minute: number) => `${tenantTag(t)}:mon:m:${minute}`,
  /** Hash: the same counters since the start, for Prometheus counters. */
  monitorTotals: (t: string) => `${tenantTag(t)}:mon:total`,
  /** Set: the actors the tenant has had work for (whose monitoring keys to read). */
  monitorActors: (t: string) => `${tenantTag(t)}:mon:actors`,
  /** Sorted set: the tenant's failed imports, scored by when they failed (ms), for the import-failure alert. */
  monitorImportFailures: (t: string) => `${tenantTag(t)}:mon:import-failed`,
} as const;

export const globalKeys = {
  /** Set: every tenant id, for the operator's listing. (API keys carry their tenant id, so no key index.) */
  tenants: "fw:tenants",
  /** Sorted set: the global warehouse semaphore's leases (`<token>:<tenant>`, scored by expiry). */
  warehouseSemaphore: "wh:sem",
  /**
   * Sorted set: tenants waiting for a warehouse permit, scored by when their claim lapses. Its hash tag is
   * `wh:sem`, so it hashes to the semaphore's own Cluster slot and one script can read both.
   */
  warehouseWaiting: "{wh:sem}:wait",
  /**
   * Stream: influencer data points on their way to one warehouse database (collector → sink, consumer group).
   * Named after the database, so every actors host draining it writes to the database the points are for.
   */
  influencerPoints: (database: string) => `fw:influencer-points:${database}`,
  /** Set: tenants (and `_` for work of no tenant) with monitoring data, so collectors know whose keys to read. */
  monitorTenants: "fw:mon:tenants",
  /** String (JSON): the monitor's last look at the broker (DLQ sizes per actor and tenant, when it looked). */
  monitorBroker: "fw:mon:broker",
  /** Sorted set: total DLQ size at each monitor run (member `<ms>:<size>`), for the DLQ growth rule. */
  monitorDlqHistory: "fw:mon:dlq-history",
  /** Hash: alert id → state JSON; changed only by the transition script, so each crossing fires once. */
  alerts: "fw:alerts",
} as const;

import type { Redis } from "@upstash/redis/cloudflare";
import type { Tenant } from "../domain/tenants.ts";
import type { Publisher } from "../publisher/index.ts";
import type { InfluencerSettings } from "./services/influencer-settings.ts";

/** What the edge app talks to; the runtime starters build it from their configuration. */
export interface EdgeServices {
  /** Redis over the Upstash REST protocol (Upstash, or the local bridge). */
  redis: Redis;
  /** Base URL of the actors host, asked for Postgres health (the edge never opens Postgres itself). */
  actorsUrl?: string;
  /** fetch used for calls to other Fairway services; tests and runtimes may swap it. */
  fetch?: typeof fetch;
  /** Publishes actor messages through QStash; without it, work that needs an actor answers 503. */
  publisher?: Publisher;
  /** Bearer token for `/admin/*`; without it those endpoints answer 503. */
  operatorToken?: string;
  /**
   * Let concurrent requests share Redis round trips (`coalescingTransport`). Only for long-lived servers
   * (Bun, Deno): Workers forbid one request from settling another's promises with its I/O.
   */
  coalesceRedis?: boolean;
  /** Query-path settings; each has a default (see `src/edge/services/query-settings.ts`). */
  query?: Partial<QuerySettings>;
  /** QStash's current signing key: the edge signs its synchronous actor reads with it (services/actor-call.ts). */
  actorSigningKey?: string;
  /** Influencer tracking settings; each has a default (see `src/edge/services/influencer-settings.ts`). */
  influencers?: Partial<InfluencerSettings>;
}

export interface QuerySettings {
  /** How long a cached result counts as fresh. */
  cacheTtlSeconds: number;
  /** How much longer it stays in Redis, to be served as `stale` under `stale-while-revalidate`. */
  staleGraceSeconds: number;
  /** `?wait=` when none is given, and its maximum. */
  defaultWaitMs: number;
  maxWaitMs: number;
  /** Request body limit for POST /v1/queries. */
  maxBodyBytes: number;
}

/** Hono's typing for this app: values middleware puts on the context. */
export interface EdgeEnv {
  Variables: {
    requestId: string;
    /** Set by `tenantAuth` on every authenticated request. */
    tenant: Tenant;
    /** The tenant's data version, read in the same round trip as authentication. */
    dataVersion: number;
    /** Values of the keys a route asked `tenantAuth` to prefetch, by key: the stored text, null when missing. */
    prefetched: ReadonlyMap<string, unknown>;
    /** Set by the query routes when they answer with a result, so monitoring need not re-read the body. */
    cacheOutcome?: "hit" | "miss" | "stale";
  };
}

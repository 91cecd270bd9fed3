import type { Redis } from "@upstash/redis/cloudflare";

/** What the edge app talks to; the runtime starters build it from their configuration. */
export interface EdgeServices {
  /** Redis over the Upstash REST protocol (Upstash, or the local bridge). */
  redis: Redis;
  /** Base URL of the actors host, asked for Postgres health (the edge never opens Postgres itself). */
  actorsUrl?: string;
  /** fetch used for calls to other Fairway services; tests and runtimes may swap it. */
  fetch?: typeof fetch;
}

/** Hono's typing for this app: values middleware puts on the context. */
export interface EdgeEnv {
  Variables: { requestId: string };
}

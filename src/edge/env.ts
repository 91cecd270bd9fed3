// Turns a runtime's configuration (Workers bindings, process or Deno environment) into the app's services.
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis/cloudflare";
import { createPublisher } from "../publisher/index.ts";
import type { EdgeServices, QuerySettings } from "./context.ts";
import { monitoredServices } from "./routes/stats.ts";
import type { InfluencerSettings } from "./services/influencer-settings.ts";

export type EdgeConfigSource = Record<string, unknown>;

export class EdgeConfigError extends Error {
  override name = "EdgeConfigError";
}

export interface EdgeConfig {
  redisUrl: string;
  redisToken: string;
  actorsUrl: string | undefined;
  /** Where QStash delivers actor messages (`ACTORS_PUBLIC_URL`, else `ACTORS_URL`). */
  actorsPublicUrl: string | undefined;
  qstash: { url: string; token: string } | undefined;
  operatorToken: string | undefined;
  query: Partial<QuerySettings>;
  actorSigningKey: string | undefined;
  influencers: Partial<InfluencerSettings>;
}

/** Upstash's QStash endpoint, used when only a token is configured. */
const UPSTASH_QSTASH_URL = "https://qstash.upstash.io";

export function readEdgeConfig(source: EdgeConfigSource): EdgeConfig {
  const missing = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"].filter(
    (name) => !text(source, name),
  );
  if (missing.length > 0) throw new EdgeConfigError(`Missing configuration: ${missing.join(", ")}`);
  const actorsUrl = mapDefined(text(source, "ACTORS_URL"), trimSlash);
  const qstashToken = text(source, "QSTASH_TOKEN");
  return {
    redisUrl: trimSlash(text(source, "UPSTASH_REDIS_REST_URL") as string),
    redisToken: text(source, "UPSTASH_REDIS_REST_TOKEN") as string,
    actorsUrl,
    actorsPublicUrl: mapDefined(text(source, "ACTORS_PUBLIC_URL"), trimSlash) ?? actorsUrl,
    qstash: qstashToken
      ? { url: trimSlash(text(source, "QSTASH_URL") ?? UPSTASH_QSTASH_URL), token: qstashToken }
      : undefined,
    operatorToken: text(source, "FAIRWAY_OPERATOR_TOKEN"),
    query: {
      cacheTtlSeconds: positiveInt(source, "FAIRWAY_QUERY_CACHE_TTL_SECONDS"),
      staleGraceSeconds: positiveInt(source, "FAIRWAY_QUERY_STALE_GRACE_SECONDS", 0),
    },
    actorSigningKey: text(source, "QSTASH_CURRENT_SIGNING_KEY"),
    influencers: {
      minIntervalSeconds: positiveInt(source, "INFLUENCER_MIN_INTERVAL_SECONDS"),
      tickPrecisionMs: positiveInt(source, "INFLUENCER_TICK_PRECISION_MS"),
    },
  };
}

export function createServices(config: EdgeConfig): EdgeServices {
  const publisher =
    config.qstash && config.actorsPublicUrl
      ? createPublisher({
          client: new Client({ baseUrl: config.qstash.url, token: config.qstash.token }),
          actorsUrl: config.actorsPublicUrl,
        })
      : undefined;
  return {
    redis: new Redis({
      url: config.redisUrl,
      token: config.redisToken,
      enableTelemetry: false,
      // Fairway stores text only (JSON, ids, numbers): plain JSON replies spare every request a base64 pass.
      responseEncoding: false,
    }),
    actorsUrl: config.actorsUrl,
    publisher,
    operatorToken: config.operatorToken,
    query: config.query,
    actorSigningKey: config.actorSigningKey,
    influencers: config.influencers,
  };
}

/** Reads the configuration and builds the services, failing with one message naming what is missing. */
export function servicesFromEnv(source: EdgeConfigSource): EdgeServices {
  // Publishes are recorded for monitoring (queue depth and age per actor and tenant; src/edge/routes/stats.ts).
  return monitoredServices(createServices(readEdgeConfig(source)));
}

function text(source: EdgeConfigSource, name: string): string | undefined {
  const value = source[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function positiveInt(source: EdgeConfigSource, name: string, min = 1): number | undefined {
  const raw = text(source, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new EdgeConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

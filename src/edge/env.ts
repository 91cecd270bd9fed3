// Turns a runtime's configuration (Workers bindings, process or Deno environment) into the app's services.
import { Redis } from "@upstash/redis/cloudflare";
import type { EdgeServices } from "./context.ts";

export type EdgeConfigSource = Record<string, unknown>;

export class EdgeConfigError extends Error {
  override name = "EdgeConfigError";
}

export interface EdgeConfig {
  redisUrl: string;
  redisToken: string;
  actorsUrl: string | undefined;
}

export function readEdgeConfig(source: EdgeConfigSource): EdgeConfig {
  const missing = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"].filter(
    (name) => !text(source, name),
  );
  if (missing.length > 0) throw new EdgeConfigError(`Missing configuration: ${missing.join(", ")}`);
  return {
    redisUrl: trimSlash(text(source, "UPSTASH_REDIS_REST_URL") as string),
    redisToken: text(source, "UPSTASH_REDIS_REST_TOKEN") as string,
    actorsUrl: mapDefined(text(source, "ACTORS_URL"), trimSlash),
  };
}

export function createServices(config: EdgeConfig): EdgeServices {
  return {
    redis: new Redis({ url: config.redisUrl, token: config.redisToken, enableTelemetry: false }),
    actorsUrl: config.actorsUrl,
  };
}

/** Reads the configuration and builds the services, failing with one message naming what is missing. */
export function servicesFromEnv(source: EdgeConfigSource): EdgeServices {
  return createServices(readEdgeConfig(source));
}

function text(source: EdgeConfigSource, name: string): string | undefined {
  const value = source[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

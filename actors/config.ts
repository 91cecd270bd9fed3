// The actors host's settings, read once from the environment so every other module takes plain values.
import { type Env, readInt } from "./env.ts";

/** QStash's published local-server credentials: the local broker uses them by default too. */
export const LOCAL_QSTASH = {
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
} as const;

export interface ActorsConfig {
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolMax: number;
  redis: { url: string; token: string };
  qstash: { url: string; token: string; currentSigningKey: string; nextSigningKey: string };
  /** Base URL QStash delivers to; undefined means "the URL we end up listening on". */
  publicUrl: string | undefined;
}

export function readActorsConfig(env: Env = process.env): ActorsConfig {
  return {
    port: readInt(env, "PORT", 8082, 0),
    host: env.HOST || "127.0.0.1",
    databaseUrl: env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/fairway",
    // PGlite serves one connection at a time, so the dev stack sets 1 for it.
    dbPoolMax: readInt(env, "DATABASE_POOL_MAX", 10, 1),
    redis: {
      url: env.UPSTASH_REDIS_REST_URL || "http://127.0.0.1:8079",
      token: env.UPSTASH_REDIS_REST_TOKEN || "",
    },
    qstash: {
      url: env.QSTASH_URL || "http://127.0.0.1:8081",
      token: env.QSTASH_TOKEN || LOCAL_QSTASH.token,
      currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY || LOCAL_QSTASH.currentSigningKey,
      nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY || LOCAL_QSTASH.nextSigningKey,
    },
    publicUrl: env.ACTORS_PUBLIC_URL ? trimSlash(env.ACTORS_PUBLIC_URL) : undefined,
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

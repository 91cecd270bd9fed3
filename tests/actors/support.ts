// Test support for the actors host: QStash-format signatures minted by hand, and a host on a free port.
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import type { AnyActor } from "../../actors/define.ts";
import { type RunningActorsHost, serveActors } from "../../actors/host.ts";
import { createLogger, type LogLevel } from "../../actors/log.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";

export const SIGNING = {
  current: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  next: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
};
export const QSTASH_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";

function base64url(bytes: Uint8Array | string): string {
  const buffer = typeof bytes === "string" ? Buffer.from(bytes) : Buffer.from(bytes);
  return buffer.toString("base64url");
}

export interface SignOptions {
  url: string;
  body: string;
  key?: string;
  /** Seconds since epoch used for iat / nbf; exp is 300 s later, as QStash does. */
  now?: number;
}

/** An `Upstash-Signature` as QStash mints it: HS256, sub = URL, body = base64url(sha256(body)). */
export async function signDelivery(options: SignOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(options.body)),
  );
  const claims = {
    iss: "Upstash",
    sub: options.url,
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: `jwt_${crypto.randomUUID()}`,
    body: base64url(digest),
  };
  const unsigned = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(options.key ?? SIGNING.current),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(unsigned)));
  return `${unsigned}.${base64url(mac)}`;
}

export interface LogLine {
  level: LogLevel;
  message: string;
  [field: string]: unknown;
}

export interface TestHost extends RunningActorsHost {
  warehouse: Warehouse;
  logs: LogLine[];
  close(): Promise<void>;
}

export interface TestHostOptions {
  actors: readonly AnyActor[];
  /** Where `later` re-dispatches and handler publishes go. */
  qstashUrl?: string;
  redisRestUrl?: string;
  redisRestToken?: string;
  databaseUrl?: string;
  publicUrl?: string;
}

/** Starts the real host on a free port with real clients; its log lines are captured in `logs`. */
export function startTestHost(options: TestHostOptions): TestHost {
  // One connection: the embedded PGlite fallback serves one at a time, and /health needs no more.
  const warehouse = openWarehouse(options.databaseUrl ?? DATABASE_URL, { max: 1, connectTimeoutSeconds: 2 });
  const logs: LogLine[] = [];
  const host = serveActors({
    port: 0,
    hostname: "127.0.0.1",
    publicUrl: options.publicUrl,
    actors: options.actors,
    warehouse,
    redis: new Redis({
      url: options.redisRestUrl ?? "http://127.0.0.1:1",
      token: options.redisRestToken ?? "none",
    }),
    qstash: new Client({
      baseUrl: options.qstashUrl ?? "http://127.0.0.1:1",
      token: QSTASH_TOKEN,
      retry: false,
    }),
    receiver: new Receiver({ currentSigningKey: SIGNING.current, nextSigningKey: SIGNING.next }),
    log: createLogger({}, (_level, line) => logs.push(JSON.parse(line))),
  });
  return {
    ...host,
    warehouse,
    logs,
    async close() {
      await host.stop();
      await warehouse.close();
    },
  };
}

export interface DeliverOptions {
  body: string;
  /** The URL the signature is minted for; defaults to the URL posted to. */
  signedFor?: string;
  signedBody?: string;
  key?: string;
  now?: number;
  headers?: Record<string, string>;
  unsigned?: boolean;
}

/** POSTs a delivery to `<host>/actors/<actor>` the way QStash would. */
export async function deliver(
  host: RunningActorsHost,
  actor: string,
  options: DeliverOptions,
): Promise<Response> {
  const url = `${host.publicUrl}/actors/${actor}`;
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Upstash-Message-Id": `msg_${crypto.randomUUID()}`,
    "Upstash-Retried": "0",
    ...options.headers,
  };
  if (!options.unsigned) {
    headers["Upstash-Signature"] = await signDelivery({
      url: options.signedFor ?? url,
      body: options.signedBody ?? options.body,
      key: options.key,
      now: options.now,
    });
  }
  return fetch(`${host.url}/actors/${actor}`, { method: "POST", headers, body: options.body });
}

/** A response's JSON body, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary fields
export async function readJson(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, unknown>;
}

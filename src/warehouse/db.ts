import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/fairway";

/** `DATABASE_URL` from the environment, else the local `fairway` database. */
export function databaseUrlFromEnv(env: Record<string, string | undefined> = process.env): string {
  return env.DATABASE_URL || DEFAULT_DATABASE_URL;
}

export type WarehouseDb = PostgresJsDatabase<typeof schema>;

export interface WarehouseOptions {
  /**
   * Pool size. The embedded PGlite fallback serves one connection at a time, so pass 1 there.
   * Default: `DATABASE_POOL_MAX` from the environment, else 10.
   */
  max?: number;
  /** Close connections idle this long (seconds). Default 30. */
  idleTimeoutSeconds?: number;
  /** Give up connecting after this long (seconds). Default 10. */
  connectTimeoutSeconds?: number;
  /**
   * Longest wait before reconnecting after connections failed (seconds). postgres.js waits up to 20 s after a
   * string of failures, so a warehouse that comes back would sit idle that long. Default 2.
   */
  reconnectDelayMaxSeconds?: number;
  /** Shown in pg_stat_activity, so operators can tell the actors host from a migration. */
  applicationName?: string;
}

export interface Warehouse {
  /** Drizzle over the pool, with the schema for relational queries. */
  db: WarehouseDb;
  /**
   * The postgres.js client under `db`, for bulk statements drizzle does not express well.
   * It shares drizzle's type setup: date/time columns come back as text (wrap them in `new Date()`); `Date`
   * parameters are accepted.
   */
  sql: postgres.Sql;
  /** Waits for running queries, then closes every connection. */
  close(): Promise<void>;
}

// The date/time type oids drizzle switches to pass-through on the client it wraps.
const DATE_TIME_OIDS = ["1184", "1082", "1083", "1114", "1182", "1185", "1115", "1231"];

/**
 * drizzle turns postgres.js's date serializers into pass-through (it sends ISO strings itself), which makes a
 * `Date` parameter in a raw `sql` query fail. Serialize `Date`s again; strings still pass through untouched.
 */
function acceptDateParameters(sql: postgres.Sql): void {
  const serializers = sql.options.serializers as Record<string, (value: unknown) => unknown>;
  const serialize = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
  for (const oid of DATE_TIME_OIDS) serializers[oid] = serialize;
}

/** postgres.js's own backoff (3^retries / 100 s, ±25 % jitter), capped lower. */
function reconnectBackoff(maxSeconds: number): (retries: number) => number {
  return (retries) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, maxSeconds);
}

function poolSizeFromEnv(): number | undefined {
  const raw = process.env.DATABASE_POOL_MAX;
  const n = raw ? Number(raw) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Opens a connection pool and a drizzle instance on it. Connections are made lazily, on first query.
 *
 * @example const wh = openWarehouse(databaseUrlFromEnv(), { max: 1 }); await wh.db.select().from(tenants);
 */
export function openWarehouse(databaseUrl: string, options: WarehouseOptions = {}): Warehouse {
  const sql = postgres(databaseUrl, {
    max: options.max ?? poolSizeFromEnv() ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    backoff: reconnectBackoff(options.reconnectDelayMaxSeconds ?? 2),
    // Postgres NOTICEs (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
    onnotice: () => {},
    // UTC sessions: day and hour buckets (date_trunc on timestamptz) must not depend on the server's zone.
    connection: { application_name: options.applicationName ?? "fairway", TimeZone: "UTC" },
  });
  const db = drizzle(sql, { schema });
  acceptDateParameters(sql);
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

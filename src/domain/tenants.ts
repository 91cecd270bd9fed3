// Tenants as the edge serves them: ids, API keys, limits, and the Redis hash `{t:<id>}:tenant` that holds the
// serving copy (Postgres `tenants` is the system of record). Web Crypto only, so the edge and actors share it.
import { z } from "zod";
import { sha256Hex } from "./query/stable-json.ts";

/** Tenant ids appear inside Redis hash tags and API keys: lower-case letters, digits, dashes; never `_`. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * API key format: `fw_<tenantId>_<secret>`, the secret 32 random bytes in base64url. The tenant id in a key
 * is only a hint (it tells the edge which hash to read); the key counts only if its SHA-256 matches.
 */
const API_KEY = /^fw_([a-z0-9][a-z0-9-]{0,62})_([A-Za-z0-9_-]{43})$/;

export interface TenantLimits {
  /** Warehouse queries the tenant may run at once (its lane's parallelism). */
  concurrencyLimit: number;
  /** Requests allowed per `rateLimitWindowSeconds`. */
  rateLimit: number;
  rateLimitWindowSeconds: number;
}

/** What `c.get("tenant")` holds on every authenticated request. */
export interface Tenant extends TenantLimits {
  id: string;
  name: string;
}

/** The whole serving record, as stored in `{t:<id>}:tenant`. */
export interface TenantRecord extends Tenant {
  /** SHA-256 of the API key, lower-case hex. */
  apiKeyHash: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms, or null while the tenant is active. */
  disabledAt: number | null;
  /** Bumped on every change; orders sync messages and names their deduplication ids. */
  revision: number;
}

/** The Postgres column defaults, so a tenant created either way gets the same limits. */
export const DEFAULT_LIMITS: TenantLimits = {
  concurrencyLimit: 4,
  rateLimit: 600,
  rateLimitWindowSeconds: 60,
};

function boundedInt(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const LIMIT_BOUNDS = {
  concurrencyLimit: boundedInt(1, 1000),
  rateLimit: boundedInt(1, 1_000_000),
  rateLimitWindowSeconds: boundedInt(1, 86_400),
} as const;

export const tenantLimitsPatch = z.strictObject({
  concurrencyLimit: LIMIT_BOUNDS.concurrencyLimit.optional(),
  rateLimit: LIMIT_BOUNDS.rateLimit.optional(),
  rateLimitWindowSeconds: LIMIT_BOUNDS.rateLimitWindowSeconds.optional(),
});
export type TenantLimitsPatch = z.infer<typeof tenantLimitsPatch>;

/** A new tenant id: `t` and 20 hex digits (80 random bits). */
export function newTenantId(): string {
  return `t${hex(crypto.getRandomValues(new Uint8Array(10)))}`;
}

/** A new API key for `tenantId`: shown to the operator once, stored only as its hash. */
export function newApiKey(tenantId: string): string {
  if (!TENANT_ID.test(tenantId)) throw new RangeError(`invalid tenant id ${JSON.stringify(tenantId)}`);
  return `fw_${tenantId}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The tenant id a key claims to belong to, or null when the text is not shaped like a Fairway key. */
export function tenantIdOfKey(key: string): string | null {
  return API_KEY.exec(key)?.[1] ?? null;
}

export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** Compares two strings in time that depends only on their lengths, so a near miss reveals nothing. */
export function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return difference === 0;
}

/**
 * The Redis hash fields of a record (every value a string). The name is stored JSON-encoded: the official
 * client JSON-parses hash values it reads, which would turn a name such as `1.50` or `null` into something else.
 */
export function tenantToHash(record: TenantRecord): Record<string, string> {
  return {
    id: record.id,
    name: JSON.stringify(record.name),
    apiKeyHash: record.apiKeyHash,
    concurrencyLimit: String(record.concurrencyLimit),
    rateLimit: String(record.rateLimit),
    rateLimitWindowSeconds: String(record.rateLimitWindowSeconds),
    createdAt: String(record.createdAt),
    disabledAt: record.disabledAt === null ? "" : String(record.disabledAt),
    revision: String(record.revision),
  };
}

/**
 * Reads a record back from HGETALL as the official client returns it (values JSON-parsed where they parse);
 * null when the hash is missing or not a whole record.
 */
export function tenantFromHash(hash: Record<string, unknown> | null | undefined): TenantRecord | null {
  if (!hash) return null;
  const text = (name: string) => (hash[name] === undefined || hash[name] === null ? "" : String(hash[name]));
  const name = hash.name;
  const int = (name: string) => {
    const value = Number(text(name));
    return text(name) !== "" && Number.isSafeInteger(value) ? value : Number.NaN;
  };
  const record: TenantRecord = {
    id: text("id"),
    name: typeof name === "string" ? name : "",
    apiKeyHash: text("apiKeyHash"),
    concurrencyLimit: int("concurrencyLimit"),
    rateLimit: int("rateLimit"),
    rateLimitWindowSeconds: int("rateLimitWindowSeconds"),
    createdAt: int("createdAt"),
    disabledAt: text("disabledAt") === "" ? null : int("disabledAt"),
    revision: int("revision"),
  };
  const numbers = [
    record.concurrencyLimit,
    record.rateLimit,
    record.rateLimitWindowSeconds,
    record.createdAt,
  ];
  if (!TENANT_ID.test(record.id) || !/^[0-9a-f]{64}$/.test(record.apiKeyHash)) return null;
  if (numbers.some((n) => !(n >= 0)) || Number.isNaN(record.revision)) return null;
  if (record.disabledAt !== null && Number.isNaN(record.disabledAt)) return null;
  return record;
}

/** The part of a record every request sees. */
export function tenantOf(record: TenantRecord): Tenant {
  return {
    id: record.id,
    name: record.name,
    concurrencyLimit: record.concurrencyLimit,
    rateLimit: record.rateLimit,
    rateLimitWindowSeconds: record.rateLimitWindowSeconds,
  };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** A whole record as JSON (the `tenant-sync` message carries one). */
export const tenantRecordSchema = z.object({
  id: z.string().regex(TENANT_ID),
  name: z.string().min(1).max(200),
  apiKeyHash: z.string().regex(/^[0-9a-f]{64}$/),
  concurrencyLimit: LIMIT_BOUNDS.concurrencyLimit,
  rateLimit: LIMIT_BOUNDS.rateLimit,
  rateLimitWindowSeconds: LIMIT_BOUNDS.rateLimitWindowSeconds,
  createdAt: z.number().int().nonnegative(),
  disabledAt: z.number().int().nonnegative().nullable(),
  revision: z.number().int().positive(),
});

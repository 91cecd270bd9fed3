// Authenticates `/v1` calls by tenant API key and applies the tenant's rate limit, reading everything it needs
// (tenant record, data version, the route's prefetched keys, the rate-limit script) in one Redis round trip.
import type { Context, MiddlewareHandler } from "hono";
import { keys } from "../../domain/keys.ts";
import {
  constantTimeEqual,
  hashApiKey,
  type Tenant,
  type TenantRecord,
  tenantFromHash,
  tenantIdOfKey,
  tenantOf,
} from "../../domain/tenants.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { type RateLimitVerdict, TenantRateLimiter } from "../services/rate-limit.ts";
import {
  coalescingTransport,
  directTransport,
  hashFromFields,
  RedisBatch,
  type RedisCommand,
  RedisCommandError,
  type RedisTransport,
} from "../services/redis-batch.ts";
import { bearerToken } from "./bearer.ts";

/**
 * A key to GET, or a key read by a command of its own (a conditional read, say). A command naming a script by
 * its SHA-1 may carry the same read with the script's text, sent in a second round trip when Redis does not
 * know the script (NOSCRIPT: restarted, or its scripts flushed).
 */
export type PrefetchRead = string | { key: string; command: RedisCommand; byScriptText?: RedisCommand };

export interface TenantAuthOptions {
  /**
   * Keys to read in the same round trip, given the tenant id the key claims (trusted only once the key
   * matches). Their raw replies land in `c.get("prefetched")` by key: for a GET the stored text, or null.
   * May read the request body.
   */
  prefetch?: (
    c: Context<EdgeEnv>,
    tenantId: string,
  ) => readonly PrefetchRead[] | Promise<readonly PrefetchRead[]>;
}

const INVALID_KEY = "Invalid API key";

/**
 * SHA-256 of recently presented keys. Hashing costs more than the rest of a cache hit's own work, and a
 * tenant sends the same key on every request. Up to MAX_KEY_HASHES entries per isolate; the oldest go first.
 */
const MAX_KEY_HASHES = 10_000;
const keyHashes = {
  known: new Map<string, string>(),
  async compute(key: string): Promise<string> {
    const hash = await hashApiKey(key);
    if (this.known.size >= MAX_KEY_HASHES) this.known.delete(this.known.keys().next().value as string);
    this.known.set(key, hash);
    return hash;
  },
};

/**
 * Tenant records as decoded from their hash's fields, per tenant id, kept while the fields Redis returns are
 * the same: decoding is a pure function of the fields, which are still read and compared on every request.
 * The record and tenant are frozen, as every request of the tenant is handed the same ones.
 */
const MAX_DECODED_TENANTS = 10_000;
interface DecodedTenant {
  fields: readonly unknown[];
  record: Readonly<TenantRecord>;
  tenant: Readonly<Tenant>;
}
const decodedTenants = new Map<string, DecodedTenant>();

function decodedTenant(tenantId: string, fields: unknown): DecodedTenant | null {
  if (!Array.isArray(fields)) return null;
  const held = decodedTenants.get(tenantId);
  if (held !== undefined && sameFields(held.fields, fields)) return held;
  const record = tenantFromFields(fields);
  if (record === null) return null;
  if (held === undefined && decodedTenants.size >= MAX_DECODED_TENANTS) {
    decodedTenants.delete(decodedTenants.keys().next().value as string);
  }
  const decoded = { fields, record: Object.freeze(record), tenant: Object.freeze(tenantOf(record)) };
  decodedTenants.set(tenantId, decoded);
  return decoded;
}

function sameFields(held: readonly unknown[], fields: readonly unknown[]): boolean {
  if (held.length !== fields.length) return false;
  for (let i = 0; i < fields.length; i++) if (held[i] !== fields[i]) return false;
  return true;
}

/** No keys to prefetch. */
const NO_READS: readonly PrefetchRead[] = [];

// One limiter and one Redis transport per services object, shared by every route that authenticates tenants.
const perServices = new WeakMap<EdgeServices, { limiter: TenantRateLimiter; transport: RedisTransport }>();

function stateFor(services: EdgeServices) {
  let state = perServices.get(services);
  if (!state) {
    state = {
      limiter: new TenantRateLimiter(services.redis),
      transport: services.coalesceRedis
        ? coalescingTransport(services.redis)
        : directTransport(services.redis),
    };
    perServices.set(services, state);
  }
  return state;
}

/**
 * `Authorization: Bearer fw_<tenant>_<secret>` → `c.get("tenant")`, `c.get("dataVersion")`; 401 for a missing
 * or wrong key, 403 for a disabled tenant, 429 over the rate limit, 503 when Redis does not answer. Every
 * answer past authentication carries `RateLimit-Limit / -Remaining / -Reset`.
 *
 * @example app.post("/v1/events", tenantAuth(services), (c) => c.json({ tenant: c.get("tenant").id }))
 */
export function tenantAuth(
  services: EdgeServices,
  options: TenantAuthOptions = {},
): MiddlewareHandler<EdgeEnv> {
  const { limiter, transport } = stateFor(services);
  return async function tenantAuthMiddleware(c, next) {
    const presented = bearerToken(c.req.header("authorization"));
    if (presented === undefined) throw unauthorized(c, "Missing Authorization: Bearer <API key>");
    const tenantId = tenantIdOfKey(presented);
    if (tenantId === null) throw unauthorized(c, INVALID_KEY);

    let keyHash = keyHashes.known.get(presented);
    let extraReads: readonly PrefetchRead[];
    if (keyHash !== undefined) {
      extraReads = options.prefetch ? await options.prefetch(c, tenantId) : NO_READS;
    } else {
      [keyHash, extraReads] = await Promise.all([
        keyHashes.compute(presented),
        options.prefetch ? options.prefetch(c, tenantId) : NO_READS,
      ]);
    }
    const batch = new RedisBatch(services.redis, transport);
    const recordAt = batch.add(["hgetall", keys.tenant(tenantId)]);
    const versionAt = batch.add(["get", keys.dataVersion(tenantId)]);
    const extraAt = extraReads.map((read) =>
      batch.add(typeof read === "string" ? ["get", read] : read.command),
    );
    const known = limiter.knownLimitsOf(tenantId);
    const earlyVerdict = known && limiter.limit(batch, tenantId, keyHash, known);
    await sendBatch(batch);

    const decoded = decodedTenant(tenantId, replyOf(batch, recordAt));
    if (!decoded || !constantTimeEqual(decoded.record.apiKeyHash, keyHash))
      throw unauthorized(c, INVALID_KEY);
    const { record, tenant } = decoded;
    if (record.disabledAt !== null) throw new ApiError(403, "tenant_disabled", "This tenant is disabled");
    limiter.remember(record.id, record);

    const verdict = await redisReply(earlyVerdict ?? limiter.limit(batch, tenantId, keyHash, record));
    const resetSeconds = setRateLimitHeaders(c, verdict);
    if (!verdict.success) {
      c.header("Retry-After", String(resetSeconds));
      throw new ApiError(
        429,
        "rate_limited",
        `Rate limit of ${verdict.limit} requests per ${record.rateLimitWindowSeconds} s reached; retry in ${resetSeconds} s`,
      );
    }

    const prefetched = new Map<string, unknown>();
    /** Reads whose script Redis did not know, sent again with its text: their keys and places in `batch`. */
    let retry: { batch: RedisBatch; reads: [string, number][] } | undefined;
    for (let i = 0; i < extraReads.length; i++) {
      const read = extraReads[i] as PrefetchRead;
      const at = extraAt[i] as number;
      if (typeof read !== "string" && read.byScriptText !== undefined && isNoScript(batch, at)) {
        retry ??= { batch: new RedisBatch(services.redis, transport), reads: [] };
        retry.reads.push([read.key, retry.batch.add(read.byScriptText)]);
        continue;
      }
      prefetched.set(typeof read === "string" ? read : read.key, replyOf(batch, at));
    }
    if (retry !== undefined) {
      await sendBatch(retry.batch);
      for (const [key, at] of retry.reads) prefetched.set(key, replyOf(retry.batch, at));
    }
    c.set("tenant", tenant);
    c.set("dataVersion", dataVersionOf(replyOf(batch, versionAt)));
    c.set("prefetched", prefetched);
    await next();
  };
}

/** The tenant hash from HGETALL's raw reply; its name is stored JSON-encoded (see `tenantToHash`). */
function tenantFromFields(fields: unknown): TenantRecord | null {
  const hash: Record<string, unknown> | null = hashFromFields(fields);
  if (hash && typeof hash.name === "string") {
    try {
      hash.name = JSON.parse(hash.name);
    } catch {
      // A name stored as plain text is read as it is.
    }
  }
  return tenantFromHash(hash);
}

/** `{t:<id>}:ver` as a number: missing (no data yet) is version 0. */
export function dataVersionOf(value: unknown): number {
  const version = Number(value ?? 0);
  return Number.isSafeInteger(version) && version >= 0 ? version : 0;
}

function unauthorized(c: Context<EdgeEnv>, message: string): ApiError {
  c.header("WWW-Authenticate", 'Bearer realm="fairway"');
  return new ApiError(401, "unauthorized", message);
}

/** Sets the rate-limit headers (IETF draft names); returns the seconds until the window resets. */
function setRateLimitHeaders(c: Context<EdgeEnv>, verdict: RateLimitVerdict): number {
  const resetSeconds = Math.max(1, Math.ceil((verdict.reset - Date.now()) / 1000));
  c.header("RateLimit-Limit", String(verdict.limit));
  c.header("RateLimit-Remaining", String(verdict.remaining));
  c.header("RateLimit-Reset", String(resetSeconds));
  return resetSeconds;
}

/** Sends the batch; Redis out of reach becomes a 503 the client may retry. */
async function sendBatch(batch: RedisBatch): Promise<void> {
  try {
    await batch.send();
  } catch (error) {
    throw redisUnavailable(error);
  }
}

/** Whether Redis answered the command at `index` with NOSCRIPT (it does not know the script named). */
function isNoScript(batch: RedisBatch, index: number): boolean {
  try {
    batch.reply(index);
    return false;
  } catch (error) {
    return error instanceof RedisCommandError && error.message.startsWith("NOSCRIPT");
  }
}

/** The reply of a command added to a sent batch; a Redis error reply becomes a 503 the client may retry. */
function replyOf(batch: RedisBatch, index: number): unknown {
  try {
    return batch.reply(index);
  } catch (error) {
    throw redisUnavailable(error);
  }
}

/** A command's reply; a Redis failure becomes a 503 the client may retry. */
export async function redisReply<T>(reply: Promise<T> | undefined): Promise<T> {
  try {
    return (await reply) as T;
  } catch (error) {
    throw redisUnavailable(error);
  }
}

export function redisUnavailable(error: unknown): ApiError {
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError(503, "redis_unavailable", `Redis did not answer: ${detail}`);
}

// The body of `POST /v1/queries`: a semantic query plus an optional `cache` mode, validated and hashed.
import { parseQuery, type Query, queryHash } from "../../domain/query/index.ts";
import { ApiError, type FieldError } from "../errors.ts";
import { parseJsonBody } from "./json-body.ts";

export const CACHE_MODES = ["default", "no-cache", "stale-while-revalidate"] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

export interface QueryRequest {
  mode: CacheMode;
  /** Canonical query (what the actor receives) and its hash (the cache key's stable part). */
  canonical: Query;
  hash: string;
  /** Epoch ms relative date ranges were resolved against. */
  askedAt: number;
}

/** Bodies remembered per isolate; only queries whose meaning cannot change with the clock are remembered. */
const MAX_REMEMBERED = 1000;
const remembered = new Map<string, Omit<QueryRequest, "askedAt">>();

/**
 * Reads a request body: JSON, then `readQueryRequest`. Validating and hashing cost a few hundred microseconds,
 * so the outcome for a body without a relative date range (a pure function of its text) is remembered: a
 * repeated question, the cache-hit path, skips both.
 */
export async function queryRequestFromText(text: string, now: number): Promise<QueryRequest> {
  const known = rememberedQueryRequest(text, now);
  if (known) return known;
  const body = parseJsonBody(text);
  const request = await readQueryRequest(body, now);
  if (!dependsOnClock(body)) {
    if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
    const { askedAt: _askedAt, ...rest } = request;
    remembered.set(text, rest);
  }
  return request;
}

/** `queryRequestFromText` for a body remembered here, without waiting; undefined for any other. */
export function rememberedQueryRequest(text: string, now: number): QueryRequest | undefined {
  const known = remembered.get(text);
  return known && { ...known, askedAt: now };
}

/** A relative range (`"last 7 days"`) resolves against the clock; `[from, to]` and no range do not. */
function dependsOnClock(body: unknown): boolean {
  const range = (body as { timeDimension?: { dateRange?: unknown } }).timeDimension?.dateRange;
  return range !== undefined && !Array.isArray(range);
}

/** Validates the parsed JSON body; throws a 400 naming every field at fault. */
export async function readQueryRequest(body: unknown, now: number): Promise<QueryRequest> {
  const errors: FieldError[] = [];
  let mode: CacheMode = "default";
  let queryInput = body;
  if (body !== null && typeof body === "object" && !Array.isArray(body) && "cache" in body) {
    const { cache, ...rest } = body as Record<string, unknown>;
    queryInput = rest;
    if (CACHE_MODES.includes(cache as CacheMode)) mode = cache as CacheMode;
    else errors.push({ field: "cache", message: `must be one of ${CACHE_MODES.join(", ")}` });
  }
  const parsed = parseQuery(queryInput, { now });
  if (!parsed.ok) errors.push(...parsed.errors);
  if (!parsed.ok || errors.length > 0) {
    const first = errors[0] as FieldError;
    throw new ApiError(400, "invalid_query", `${first.field}: ${first.message}`, { fields: errors });
  }
  const { hash, canonical } = await queryHash(parsed.query, now);
  return { mode, canonical, hash, askedAt: now };
}

// The contract between the edge and the query actor: the message that asks for a query, the cached result,
// the completion event on the tenant's stream, and the status record `GET /v1/queries/:id` reads.
// Everything here is plain data, stored in Redis as JSON or as stream / hash fields.
//
// Who writes what, in order (keys from keys.ts):
//   edge   SET   inflight(t, hash) = queryId NX EX   single-flight: the winner alone publishes
//   edge   HSET  query(t, queryId)  status=queued, hash, dataVersion, createdAt (+ EXPIRE QUERY_STATUS_TTL_SECONDS)
//   edge   publish QueryJobMessage to the `query` actor (flow-control key = tenant id, parallelism =
//          concurrencyLimit; deduplication id = queryId; failure callback = the `query-failed` actor, which
//          the actor's own re-dispatches keep)
//   actor  HSET  query(t, queryId)  status=running, startedAt
//   actor  SET   cache(t, hash) = CachedResult JSON  EX cacheExpirySeconds(message)      (done only)
//   actor  HSET  query(t, queryId)  status=done|error, finishedAt, rowCount | error
//   actor  XADD  done(t) MAXLEN ~ COMPLETION_STREAM_MAXLEN * CompletionEvent fields — after the two writes
//          above, so a waiter woken by the event always finds the result
//   actor  DEL   inflight(t, hash) only while it still holds this queryId (optional: the edge also treats a
//          flight whose status is done / error, or computes an older data version, as over)
//
// `position` in the edge's 202 answers: when `{t}:lane` is a sorted set of waiting query ids (score =
// arrival), the edge reports ZRANK + 1; otherwise it leaves position out.
//
// A message that lands in the DLQ (retries or `later` re-dispatches spent) never reaches the writes above;
// `query-failed` makes them instead, as an `error` outcome, unless the query is already done or error.
//
// The actor runs every queryId it receives, even when a cache entry exists (`no-cache` relies on it); it may
// skip only a redelivery of a queryId whose status is already done or error.
import { z } from "zod";

/** The actor QStash calls back when a `query` message lands in the dead-letter queue. */
export const QUERY_FAILED_ACTOR = "query-failed";

/** How long `{t}:query:<id>` lives: the window in which `GET /v1/queries/:id` can find a query. */
export const QUERY_STATUS_TTL_SECONDS = 3600;

/** Completion events kept per tenant (XADD … MAXLEN ~): waiters read only the recent ones. */
export const COMPLETION_STREAM_MAXLEN = 1000;

/** The actor message: a validated, canonical semantic query (never SQL) and who asked for it. */
export const queryJobMessage = z.object({
  queryId: z.string().min(1).max(64),
  tenantId: z.string().min(1).max(64),
  /** Canonical query hash (`queryHash`), the cache key's stable part. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The tenant's data version the result is computed for; the cache entry records it. */
  dataVersion: z.number().int().nonnegative(),
  /** The canonical query, as `queryHash` returned it; the actor parses and compiles it itself. */
  query: z.unknown(),
  /** Epoch ms the question was asked: relative date ranges were resolved against it. */
  askedAt: z.number().int().nonnegative(),
  /** How long the cached result counts as fresh. */
  cacheTtlSeconds: z.number().int().positive().max(86_400),
  /** How much longer it stays in Redis after that, to be served as stale (`stale-while-revalidate`). */
  staleGraceSeconds: z.number().int().nonnegative().max(86_400).default(0),
});
export type QueryJobMessage = z.infer<typeof queryJobMessage>;

/** The cache entry's Redis TTL (`SET … EX`): fresh time plus the stale grace. */
export function cacheExpirySeconds(
  message: Pick<QueryJobMessage, "cacheTtlSeconds" | "staleGraceSeconds">,
): number {
  return message.cacheTtlSeconds + message.staleGraceSeconds;
}

/** What `{t:<id>}:cache:<hash>` holds (JSON): rows plus what the edge needs to decide fresh or stale. */
export interface CachedResult {
  queryId: string;
  dataVersion: number;
  /** Epoch ms the warehouse answered; the edge counts the entry fresh until computedAt + its cache TTL. */
  computedAt: number;
  /** Warehouse time of the SQL alone. */
  durationMs: number;
  /** Which table answered: raw events or a rollup. */
  source: string;
  columns: string[];
  data: Record<string, unknown>[];
}

/** Status of one query id, in the hash `{t:<id>}:query:<queryId>`. */
export type QueryStatus = "queued" | "running" | "done" | "error";

/** Fields of the status hash (all stored as strings). */
export interface QueryStatusRecord {
  status: QueryStatus;
  hash: string;
  dataVersion: number;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  rowCount?: number;
  /** For `error`: a message safe to show the tenant. */
  error?: string;
}

/** Fields of one event on the completion stream `{t:<id>}:done`. */
export interface CompletionEvent {
  queryId: string;
  status: "done" | "error";
  rowCount?: number;
  /** For `error`: a message safe to show the tenant (no SQL, no internals). */
  error?: string;
}

// The contract between the edge and the query actor: the message that asks for a query, the cached result,
// the completion event on the tenant's stream, and the status record `GET /v1/queries/:id` reads.
// Everything here is plain data, stored in Redis as JSON or as stream / hash fields.
import { z } from "zod";

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
  /** How long the cached result lives. */
  cacheTtlSeconds: z.number().int().positive().max(86_400),
});
export type QueryJobMessage = z.infer<typeof queryJobMessage>;

/** What `{t:<id>}:cache:<hash>` holds (JSON): rows plus what the edge needs to decide fresh or stale. */
export interface CachedResult {
  queryId: string;
  dataVersion: number;
  /** Epoch ms the warehouse answered. */
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

/** Fields of one event on the completion stream `{t:<id>}:done`. */
export interface CompletionEvent {
  queryId: string;
  status: "done" | "error";
  rowCount?: number;
  /** For `error`: a message safe to show the tenant (no SQL, no internals). */
  error?: string;
}

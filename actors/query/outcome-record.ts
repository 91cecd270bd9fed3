// Writing a query's outcome: cache entry, status, completion event and single-flight key, in one script.
import type { Redis } from "@upstash/redis";
import { keys } from "../../src/domain/keys.ts";
import {
  type CachedResult,
  COMPLETION_STREAM_MAXLEN,
  cacheExpirySeconds,
  QUERY_STATUS_TTL_SECONDS,
  type QueryJobMessage,
} from "../../src/domain/query-jobs.ts";
import { runLua } from "../semaphore/lua-script.ts";
import { queryScripts } from "./scripts.ts";

export type QueryOutcome = { status: "done"; result: CachedResult } | { status: "error"; error: string };

export interface Recorded {
  /** False when the query had already been recorded as done or failed (nothing was written). */
  recorded: boolean;
  /** "kept-newer": the cache already held an answer for a newer data version and was left alone. */
  cache: "written" | "kept-newer" | "none";
  eventId: string;
}

/** The cache entry as JSON, data version first so the finish script can compare versions without decoding. */
export function cachedResultJson(result: CachedResult): string {
  const { dataVersion, ...rest } = result;
  return JSON.stringify({ dataVersion, ...rest });
}

export async function recordOutcome(
  redis: Redis,
  message: QueryJobMessage,
  outcome: QueryOutcome,
): Promise<Recorded> {
  const t = message.tenantId;
  const [recorded, cached, eventId] = await runLua<[number, number, unknown]>(
    redis,
    queryScripts.finish,
    [
      keys.cache(t, message.hash),
      keys.done(t),
      keys.query(t, message.queryId),
      keys.inflight(t, message.hash),
      keys.lane(t),
      keys.laneExpiry(t),
      keys.laneParked(t),
    ],
    [
      message.queryId,
      outcome.status,
      outcome.status === "done" ? cachedResultJson(outcome.result) : "",
      message.dataVersion,
      cacheExpirySeconds(message),
      outcome.status === "done" ? outcome.result.data.length : outcome.error,
      COMPLETION_STREAM_MAXLEN,
      QUERY_STATUS_TTL_SECONDS,
    ],
  );
  return {
    recorded: recorded === 1,
    cache: cached === 1 ? "written" : cached === 0 ? "kept-newer" : "none",
    eventId: String(eventId),
  };
}

/**
 * Status `running` once both permits are held (the edge shows `queued` with a lane position until then), and
 * the end of any park: the query is out of its lane and runs.
 */
export async function markRunning(redis: Redis, message: QueryJobMessage): Promise<void> {
  await Promise.all([
    redis.hset(keys.query(message.tenantId, message.queryId), { status: "running", startedAt: Date.now() }),
    redis.hdel(keys.laneParked(message.tenantId), message.queryId),
  ]);
}

/** Back to `queued`: the query gave its permits back and will be dispatched again. */
export async function markQueued(redis: Redis, message: QueryJobMessage): Promise<void> {
  await redis.hset(keys.query(message.tenantId, message.queryId), { status: "queued" });
}

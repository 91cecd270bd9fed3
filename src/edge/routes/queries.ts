// The semantic query API: POST /v1/queries answers from the cache or computes once per question and waits
// (bounded) for the result; GET /v1/queries/:id long-polls a query of the caller's own tenant.
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { CachedResult } from "../../domain/query-jobs.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { tenantAuth } from "../middleware/tenant-auth.ts";
import {
  type CacheOutcome,
  type EntryRead,
  entryFrom,
  entryRead,
  resultBody,
  resultBytes,
} from "../services/cached-answers.ts";
import { readBodyText } from "../services/json-body.ts";
import {
  type QueryRequest,
  queryRequestFromText,
  rememberedQueryRequest,
} from "../services/query-request.ts";
import { isFresh, type QuerySnapshot } from "../services/query-results.ts";
import { cacheKeyOf, computeQuery, queryServices } from "../services/query-runner.ts";
import { querySettings } from "../services/query-settings.ts";
import { QUERY_ID } from "../services/single-flight.ts";
import { parseWait } from "../services/wait-param.ts";

export type { CacheOutcome } from "../services/cached-answers.ts";

/** Seconds a client should wait before polling a query that is not done yet. */
const POLL_AFTER_SECONDS = 1;

export function registerQueries(app: Hono<EdgeEnv>, services: EdgeServices): void {
  const settings = querySettings(services);
  // The body is read and hashed while the key is checked, so the cache entry rides the auth round trip; its
  // errors are reported only once the caller has proven who it is.
  const prepared = new WeakMap<Request, { request: QueryRequest; read: EntryRead } | { error: unknown }>();
  const auth = tenantAuth(services, {
    async prefetch(c, tenantId) {
      let request: QueryRequest;
      try {
        const text = await readBodyText(c, settings.maxBodyBytes);
        const now = Date.now();
        request = rememberedQueryRequest(text, now) ?? (await queryRequestFromText(text, now));
      } catch (error) {
        prepared.set(c.req.raw, { error });
        return [];
      }
      const read = entryRead(cacheKeyOf(tenantId, request));
      prepared.set(c.req.raw, { request, read });
      return [read];
    },
  });

  app.post("/v1/queries", auth, async (c) => {
    const body = prepared.get(c.req.raw);
    if (body === undefined) throw new Error("the query body was not read while authenticating");
    if ("error" in body) throw body.error;
    const { request, read } = body;
    const waitMs = parseWait(c.req.query("wait"), settings.defaultWaitMs, settings.maxWaitMs);
    const tenant = c.get("tenant");
    const dataVersion = c.get("dataVersion");
    // The read was made for the tenant the key claimed: it counts only if that is the tenant it proved to be.
    const entry =
      read.key === cacheKeyOf(tenant.id, request) ? entryFrom(read, c.get("prefetched").get(read.key)) : null;

    if (entry && request.mode !== "no-cache") {
      if (isFresh(entry, dataVersion, settings.cacheTtlSeconds, Date.now()))
        return answerWithResult(c, entry, "hit");
      if (request.mode === "stale-while-revalidate") {
        const refresh = await computeQuery(services, settings, tenant, dataVersion, request);
        c.header("Fairway-Refresh-Query", refresh.queryId);
        return answerWithResult(c, entry, "stale");
      }
    }
    const flight = await computeQuery(services, settings, tenant, dataVersion, request);
    const snapshot = await queryServices(services).results.settle(
      tenant.id,
      flight.queryId,
      waitMs,
      request.hash,
    );
    return answer(c, flight.queryId, snapshot);
  });

  registerQueryEvents(app, services, settings.maxWaitMs);

  app.get("/v1/queries/:id", tenantAuth(services), async (c) => {
    const id = c.req.param("id");
    const waitMs = parseWait(c.req.query("wait"), settings.defaultWaitMs, settings.maxWaitMs);
    // Ids are looked up only under the caller's own tenant tag: another tenant's id is simply not there.
    if (!QUERY_ID.test(id)) throw queryNotFound(id);
    const snapshot = await queryServices(services).results.settle(c.get("tenant").id, id, waitMs);
    if (!snapshot.status) throw queryNotFound(id);
    return answer(c, id, snapshot);
  });
}

/** Longest wait of one step of the event stream: each step ends with a `status` event (a heartbeat too). */
const EVENT_STEP_MS = 5000;

/**
 * `GET /v1/queries/:id/events`: server-sent events. `status` ({id, status, position?}) now and after each step
 * while the query waits or runs, then `result` (the 200 body) or `error` ({code, message, queryId}), and the
 * stream ends. It lasts at most the longest `wait`; a client that sees no result by then connects again.
 */
function registerQueryEvents(app: Hono<EdgeEnv>, services: EdgeServices, maxMs: number): void {
  app.get("/v1/queries/:id/events", tenantAuth(services), async (c) => {
    const id = c.req.param("id");
    if (!QUERY_ID.test(id)) throw queryNotFound(id);
    const tenantId = c.get("tenant").id;
    const { results } = queryServices(services);
    const first = await results.snapshot(tenantId, id);
    if (!first.status) throw queryNotFound(id);
    return streamSSE(c, async (stream) => {
      const deadline = Date.now() + maxMs;
      let snapshot: QuerySnapshot = first;
      for (;;) {
        const { status, entry } = snapshot;
        if (status?.status === "done") {
          const data = entry
            ? resultBody(entry, entry.queryId === id ? "miss" : "hit")
            : { error: { code: "result_expired", message: "The result is no longer cached", queryId: id } };
          await stream.writeSSE({ event: entry ? "result" : "error", data: JSON.stringify(data) });
          return;
        }
        if (status?.status === "error") {
          const error = { code: "query_failed", message: status.error ?? "The query failed", queryId: id };
          await stream.writeSSE({ event: "error", data: JSON.stringify(error) });
          return;
        }
        const state: { id: string; status: string; position?: number } = {
          id,
          status: status?.status ?? "queued",
        };
        if (snapshot.position !== undefined) state.position = snapshot.position;
        await stream.writeSSE({ event: "status", data: JSON.stringify(state) });
        const left = deadline - Date.now();
        if (left <= 0 || stream.aborted) return;
        snapshot = await results.settle(tenantId, id, Math.min(EVENT_STEP_MS, left));
      }
    });
  });
}

/** 200 with the result, telling monitoring how it was served. */
function answerWithResult(c: Context<EdgeEnv>, entry: CachedResult, cache: CacheOutcome): Response {
  c.set("cacheOutcome", cache);
  return c.body(resultBytes(entry, cache), 200, { "Content-Type": "application/json" });
}

/** 200 with the result, 422 for a failed query, 202 while it is queued or running. */
function answer(c: Context<EdgeEnv>, queryId: string, snapshot: QuerySnapshot): Response {
  const { status, entry } = snapshot;
  if (status?.status === "done") {
    if (!entry) {
      throw new ApiError(410, "result_expired", "The result is no longer cached; send the query again", {
        queryId,
      });
    }
    return answerWithResult(c, entry, entry.queryId === queryId ? "miss" : "hit");
  }
  if (status?.status === "error") {
    throw new ApiError(422, "query_failed", status.error ?? "The query failed", { queryId });
  }
  c.header("Location", `/v1/queries/${queryId}`);
  c.header("Retry-After", String(POLL_AFTER_SECONDS));
  const body: { id: string; status: string; position?: number } = {
    id: queryId,
    status: status?.status ?? "queued",
  };
  if (snapshot.position !== undefined) body.position = snapshot.position;
  return c.json(body, 202);
}

function queryNotFound(id: string): ApiError {
  return new ApiError(404, "query_not_found", `No query ${JSON.stringify(id.slice(0, 64))}`);
}

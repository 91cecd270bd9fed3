// A test's stand-in for the query actor, following src/domain/query-jobs.ts to the letter: it compiles the
// canonical query itself, runs it on the test warehouse, caches the result, marks the status, XADDs the
// completion, and ends the flight. Tests can hold a query back, fail it, and count executions.
import { defineActor } from "../../../actors/define.ts";
import { ok } from "../../../actors/outcome.ts";
import { keys } from "../../../src/domain/keys.ts";
import { compileQuery, decodeRows, parseQuery } from "../../../src/domain/query/index.ts";
import {
  type CachedResult,
  COMPLETION_STREAM_MAXLEN,
  cacheExpirySeconds,
  queryJobMessage,
} from "../../../src/domain/query-jobs.ts";

export interface StandInControl {
  /** Executions per `<tenant>:<hash>`. */
  executions: Map<string, number>;
  /** When set for a hash, the computation waits for this promise before finishing. */
  holds: Map<string, Promise<void>>;
  /** When set for a hash, the query fails with this message. */
  failures: Map<string, string>;
  executionsOf(tenantId: string, hash: string): number;
}

export function standInQueryActor() {
  const control: StandInControl = {
    executions: new Map(),
    holds: new Map(),
    failures: new Map(),
    executionsOf: (tenantId, hash) => control.executions.get(`${tenantId}:${hash}`) ?? 0,
  };
  const actor = defineActor({
    name: "query",
    schema: queryJobMessage,
    async handler(job, ctx) {
      const statusKey = keys.query(job.tenantId, job.queryId);
      const state = await ctx.redis.hget<string>(statusKey, "status");
      if (state === "done" || state === "error") return ok({ redelivery: true });
      await ctx.redis.hset(statusKey, { status: "running", startedAt: Date.now() });
      const counter = `${job.tenantId}:${job.hash}`;
      control.executions.set(counter, (control.executions.get(counter) ?? 0) + 1);
      await control.holds.get(job.hash);

      const failure = control.failures.get(job.hash);
      const parsed = parseQuery(job.query, { now: job.askedAt });
      let event: Record<string, unknown>;
      if (failure || !parsed.ok) {
        const error = failure ?? "invalid query";
        await ctx.redis.hset(statusKey, { status: "error", error, finishedAt: Date.now() });
        event = { queryId: job.queryId, status: "error", error };
      } else {
        const started = performance.now();
        const compiled = compileQuery(parsed.query, { tenantId: job.tenantId, now: job.askedAt });
        const rows = decodeRows(
          compiled.columns,
          await ctx.sql.unsafe(compiled.text, compiled.params as never[]),
        );
        const result: CachedResult = {
          queryId: job.queryId,
          dataVersion: job.dataVersion,
          computedAt: Date.now(),
          durationMs: Math.round(performance.now() - started),
          source: compiled.source,
          columns: compiled.columns.map((column) => column.name),
          data: rows,
        };
        await ctx.redis.set(keys.cache(job.tenantId, job.hash), JSON.stringify(result), {
          ex: cacheExpirySeconds(job),
        });
        await ctx.redis.hset(statusKey, { status: "done", rowCount: rows.length, finishedAt: Date.now() });
        event = { queryId: job.queryId, status: "done", rowCount: rows.length };
      }
      await ctx.redis.xadd(keys.done(job.tenantId), "*", event, {
        trim: { type: "MAXLEN", threshold: COMPLETION_STREAM_MAXLEN, comparison: "~" },
      });
      if ((await ctx.redis.get(keys.inflight(job.tenantId, job.hash))) === job.queryId) {
        await ctx.redis.del(keys.inflight(job.tenantId, job.hash));
      }
      return ok();
    },
  });
  return { actor, control };
}

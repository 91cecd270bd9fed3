// The query actor: runs one tenant's semantic query on the warehouse inside its lane, caches the result and
// announces it on the tenant's completion stream (contract: src/domain/query-jobs.ts).
//
//   compile (the message's canonical query + its signed tenant id; never SQL from outside)
//   → permits: the tenant's (in lane order), then the warehouse's (fair share); none yet: wait, then park
//   → run in a read-only transaction with a statement timeout below the lease, heartbeating both leases
//   → one script: cache entry + status + completion event + single-flight key
//   → release both permits, waking whoever may run next
import type { Redis } from "@upstash/redis";
import type { CompiledQuery } from "../src/domain/query/index.ts";
import {
  QUERY_FAILED_ACTOR,
  QUERY_STATUS_TTL_SECONDS,
  type QueryJobMessage,
  queryJobMessage,
} from "../src/domain/query-jobs.ts";
import { type ActorContext, defineActor } from "./define.ts";
import { PermitGate, type Permits, type Wake } from "./lanes/permits.ts";
import { errorFields } from "./log.ts";
import { type LaterOptions, later, type Outcome, ok, retry } from "./outcome.ts";
import { compileJob } from "./query/compile-job.ts";
import {
  checkQueryActorConfig,
  permitSettings,
  type QueryActorConfig,
  readQueryActorConfig,
} from "./query/config.ts";
import { markQueued, markRunning, recordOutcome } from "./query/outcome-record.ts";
import { classifyWarehouseError, runCompiled } from "./query/run-sql.ts";

/**
 * The same lane and failure callback as the edge's publish: flow-control key = tenant id, parallelism = its
 * concurrency limit.
 */
function laterOptions(tenantId: string, tenantLimit: number): LaterOptions {
  return {
    flowControl: { key: tenantId, parallelism: tenantLimit },
    retries: 3,
    failureCallback: QUERY_FAILED_ACTOR,
  };
}

function wholeSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function createQueryActor(config: QueryActorConfig) {
  checkQueryActorConfig(config);
  const settings = permitSettings(config, QUERY_STATUS_TTL_SECONDS);
  const gates = new WeakMap<Redis, PermitGate>();
  const gateFor = (redis: Redis) => {
    let gate = gates.get(redis);
    if (!gate) {
      gate = new PermitGate(redis, settings);
      gates.set(redis, gate);
    }
    return gate;
  };

  return defineActor({
    name: "query",
    schema: queryJobMessage,
    // Parks back off to a minute and a release wakes them at once; this only stops a chain that never runs.
    maxLater: 10_000,
    async handler(message, ctx) {
      const job = await compileJob(message);
      if (!job.ok) {
        await recordOutcome(ctx.redis, message, { status: "error", error: job.error });
        ctx.log.warn("query refused", {
          queryId: message.queryId,
          tenantId: message.tenantId,
          error: job.error,
        });
        return ok({ status: "error", error: job.error });
      }

      const gate = gateFor(ctx.redis);
      const ticket = {
        tenantId: message.tenantId,
        queryId: message.queryId,
        askedAt: message.askedAt,
        chainId: ctx.delivery.originMessageId,
      };
      const admission = await gate.admit(ticket, JSON.stringify(message), ctx.delivery.laterCount);
      switch (admission.kind) {
        case "finished":
          // A late duplicate. If its first run died between finishing and releasing, nobody woke the lane.
          await publishWakes(ctx, await gate.wakeLane(message.tenantId), ctx.delivery.messageId);
          return ok({ status: "finished" });
        case "duplicate":
          return ok({ status: "duplicate" });
        case "running-here":
          return later(
            wholeSeconds(admission.leaseLeftMs) + 1,
            "an earlier attempt of this message still holds the query's lease",
            laterOptions(message.tenantId, admission.tenantLimit),
          );
        case "parked":
          return later(
            wholeSeconds(admission.delayMs),
            `waiting for a ${admission.blockedBy} permit, place ${admission.place + 1} in line`,
            laterOptions(message.tenantId, admission.tenantLimit),
          );
        case "granted":
          return runWithPermits(message, job.compiled, admission.permits, gate, ctx);
      }
    },
  });

  async function runWithPermits(
    message: QueryJobMessage,
    compiled: CompiledQuery,
    permits: Permits,
    gate: PermitGate,
    ctx: ActorContext,
  ): Promise<Outcome> {
    const fields = { queryId: message.queryId, tenantId: message.tenantId };
    const abort = new AbortController();
    const heartbeat = setInterval(
      () => {
        gate.heartbeat(permits).then(
          (state) => {
            if (state === "lost" && !abort.signal.aborted) {
              ctx.log.warn("query lost its permits", fields);
              abort.abort();
            }
          },
          (error) => ctx.log.warn("heartbeat failed", { ...fields, ...errorFields(error) }),
        );
      },
      Math.max(50, Math.floor(config.leaseTtlMs / 3)),
    );
    const running = markRunning(ctx.redis, message);
    try {
      const { rows, durationMs } = await runCompiled(
        ctx.sql,
        compiled,
        config.statementTimeoutMs,
        abort.signal,
      );
      clearInterval(heartbeat);
      await running;
      const recorded = await recordOutcome(ctx.redis, message, {
        status: "done",
        result: {
          queryId: message.queryId,
          dataVersion: message.dataVersion,
          computedAt: Date.now(),
          durationMs: Math.round(durationMs * 100) / 100,
          source: compiled.source,
          columns: compiled.columns.map((column) => column.name),
          data: rows,
        },
      });
      return ok({ status: "done", rowCount: rows.length, cache: recorded.cache });
    } catch (error) {
      clearInterval(heartbeat);
      await running.catch(() => {});
      if (abort.signal.aborted) {
        await markQueued(ctx.redis, message);
        return later(
          1,
          "lost the query's permits while running",
          laterOptions(message.tenantId, permits.tenantLimit),
        );
      }
      const failure = classifyWarehouseError(error, config.statementTimeoutMs);
      ctx.log.warn("query failed", {
        ...fields,
        code: failure.code,
        transient: failure.transient,
        ...errorFields(error),
      });
      if (failure.transient && ctx.delivery.retried < config.transientRetries) {
        await markQueued(ctx.redis, message);
        return retry(failure.message);
      }
      await recordOutcome(ctx.redis, message, { status: "error", error: failure.message });
      return ok({ status: "error", error: failure.message });
    } finally {
      clearInterval(heartbeat);
      await releaseAndWake(gate, permits, ctx);
    }
  }
}

/** Gives the permits back; the parked queries that may now run are published again (one wake per release). */
async function releaseAndWake(gate: PermitGate, permits: Permits, ctx: ActorContext): Promise<void> {
  try {
    await publishWakes(ctx, await gate.release(permits), permits.token);
  } catch (error) {
    // The leases lapse within their TTL anyway, and parked queries come back on their own delay.
    ctx.log.error("release failed", { tenantId: permits.tenantId, ...errorFields(error) });
  }
}

async function publishWakes(ctx: ActorContext, wakes: Wake[], releaseId: string): Promise<void> {
  await Promise.all(
    wakes.map((wake) =>
      ctx.publisher
        // No flow-control key: the woken query must not queue behind its tenant's backlog at the broker;
        // its tenant semaphore still bounds how many run.
        .publishRaw("query", wake.body, {
          deduplicationId: `wake-${wake.queryId}-${releaseId}`,
          retries: 3,
          failureCallback: QUERY_FAILED_ACTOR,
        })
        .then(
          () => ctx.log.info("wake", { queryId: wake.queryId, tenantId: wake.tenantId }),
          (error) => ctx.log.warn("wake failed", { queryId: wake.queryId, ...errorFields(error) }),
        ),
    ),
  );
}

/** The actor as the host serves it, configured from the environment. */
export const queryActor = createQueryActor(readQueryActorConfig());

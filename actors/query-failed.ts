// The `query-failed` actor: QStash's failure callback for a `query` message that spent its retries or its
// `later` re-dispatches and landed in the dead-letter queue. Without it the query would stay queued / running
// until its status expired, its single-flight key would block new attempts, and its waiters would hear nothing.
// It records the failure with the same script as the query actor (status, completion event and single-flight
// key together), which does nothing for a query already done or failed, so a redelivered callback is harmless.
import { decodeBase64Text, failureCallbackMessage } from "../src/domain/failure-callback.ts";
import { QUERY_FAILED_ACTOR, queryJobMessage } from "../src/domain/query-jobs.ts";
import { defineActor } from "./define.ts";
import { fail, ok } from "./outcome.ts";
import { recordOutcome } from "./query/outcome-record.ts";

/** What the tenant reads: how often it failed, never why (the reason is in the logs and the DLQ). */
export function deadQueryError(attempts: number): string {
  return `The query could not be run: it failed ${attempts} ${attempts === 1 ? "time" : "times"}`;
}

export const queryFailedActor = defineActor({
  name: QUERY_FAILED_ACTOR,
  schema: failureCallbackMessage,
  async handler(callback, ctx) {
    const job = readQueryJob(callback.sourceBody);
    if (!job.ok) {
      ctx.log.warn("failure callback without a query message", {
        sourceMessageId: callback.sourceMessageId,
        error: job.error,
      });
      return fail(job.error);
    }
    const message = job.message;
    const error = deadQueryError(callback.retried + 1);
    const recorded = await recordOutcome(ctx.redis, message, { status: "error", error });
    const fields = {
      queryId: message.queryId,
      tenantId: message.tenantId,
      sourceMessageId: callback.sourceMessageId,
      lastStatus: callback.status,
    };
    if (!recorded.recorded) {
      ctx.log.info("dead query was already finished", fields);
      return ok({ status: "already-finished" });
    }
    ctx.log.warn("dead query recorded as failed", { ...fields, dlqId: callback.dlqId });
    return ok({ status: "error", error });
  },
});

type ReadJob = { ok: true; message: ReturnType<typeof queryJobMessage.parse> } | { ok: false; error: string };

function readQueryJob(sourceBody: string): ReadJob {
  let value: unknown;
  try {
    value = JSON.parse(decodeBase64Text(sourceBody));
  } catch {
    return { ok: false, error: 'field "sourceBody": not a base64-encoded JSON message' };
  }
  const parsed = queryJobMessage.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") || "(message)";
  return { ok: false, error: `field "sourceBody": not a query message: "${field}": ${issue?.message}` };
}

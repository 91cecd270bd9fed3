// Wraps actors so every delivery is recorded for monitoring: its outcome, handler duration and queue latency
// (src/domain/monitoring/recorder.ts), and, once it has run for a second, that it is running. Most deliveries
// take milliseconds; recording each start would double the Redis traffic to show what the per-minute counts
// already show, while a delivery that hangs or whose host died is exactly what the running set is for. Messages the handler publishes are
// recorded as pending too. A recording failure is logged once in a while and never fails the delivery.
import type { Redis } from "@upstash/redis";
import { observedPublisher } from "../../src/domain/monitoring/observed-publisher.ts";
import {
  type DeliveryOutcome,
  type MonitorScope,
  recordFinished,
  recordStarted,
  SYSTEM_TENANT,
} from "../../src/domain/monitoring/recorder.ts";
import type { ActorContext, AnyActor } from "../define.ts";
import type { Outcome } from "../outcome.ts";

const WARN_EVERY_MS = 60_000;
/** A delivery counts as in flight once it has run this long. */
export const RUNNING_AFTER_MS = 1000;

/** The same actors, each recording its deliveries. */
export function observeActors(
  actors: readonly AnyActor[],
  redis: Redis,
  scope: MonitorScope = {},
): AnyActor[] {
  return actors.map((actor) => observeActor(actor, redis, scope));
}

export function observeActor(actor: AnyActor, redis: Redis, scope: MonitorScope = {}): AnyActor {
  let lastWarning = 0;
  const warn = (ctx: ActorContext, error: unknown) => {
    if (Date.now() - lastWarning < WARN_EVERY_MS) return;
    lastWarning = Date.now();
    ctx.log.warn("monitoring record failed", {
      error: error instanceof Error ? error.message : String(error),
    });
  };
  return {
    ...actor,
    async handler(message: unknown, ctx: ActorContext): Promise<Outcome> {
      const tenantId = tenantOf(message);
      const { delivery } = ctx;
      const token = `${delivery.messageId}:${delivery.retried}`;
      const started = performance.now();
      // Settled before the finish is recorded, so the two never cross.
      let starting: Promise<void> | undefined;
      const timer = setTimeout(() => {
        starting = recordStarted(redis, { ...scope, actor: actor.name, tenantId, token }).catch((error) =>
          warn(ctx, error),
        );
      }, RUNNING_AFTER_MS);
      const publisher = observedPublisher(ctx.publisher, redis, scope);
      const finish = async (outcome: DeliveryOutcome) => {
        clearTimeout(timer);
        await starting;
        await recordFinished(redis, {
          ...scope,
          actor: actor.name,
          tenantId,
          token,
          originId: delivery.originMessageId || delivery.messageId,
          outcome,
          runMs: performance.now() - started,
        }).catch((error) => warn(ctx, error));
      };
      let outcome: Outcome;
      try {
        outcome = await actor.handler(message, { ...ctx, publisher });
      } catch (error) {
        await finish("error");
        throw error;
      }
      await finish(outcome.kind);
      return outcome;
    },
  };
}

function tenantOf(message: unknown): string {
  const tenantId = (message as { tenantId?: unknown } | null)?.tenantId;
  return typeof tenantId === "string" && tenantId !== "" ? tenantId : SYSTEM_TENANT;
}

// A publisher that also records each new message as pending for its actor and tenant (recorder.ts), so queue
// depth and age are known without asking the broker. The record is made after the publish answers and is not
// awaited: a message delivered before its record arrives leaves a tombstone that the record respects.
import type { Delay, Publisher, PublishOptions, PublishResult } from "../../publisher/index.ts";
import { type MonitorRedis, type MonitorScope, recordPublished, SYSTEM_TENANT } from "./recorder.ts";

export interface ObservedPublisherOptions extends MonitorScope {
  /** Keeps the runtime alive for a background record (Workers: `ctx.waitUntil`); default: fire and forget. */
  defer?: (work: Promise<unknown>) => void;
}

/**
 * @example const publisher = observedPublisher(createPublisher(target), redis);
 */
export function observedPublisher(
  publisher: Publisher,
  redis: MonitorRedis,
  options: ObservedPublisherOptions = {},
): Publisher {
  const defer = options.defer ?? ((work) => void work.catch(() => {}));
  const record = (actor: string, tenantId: string, result: PublishResult, publish: PublishOptions) => {
    // A deduplicated publish is the same message as before: it is already recorded (or done).
    if (result.deduplicated) return;
    const now = Date.now();
    const work = recordPublished(redis, {
      namespace: options.namespace,
      actor,
      tenantId,
      messageId: result.messageId,
      dueAt: dueAt(publish, now),
      now,
    });
    defer(work.catch(() => {}));
  };
  return {
    actorsUrl: publisher.actorsUrl,
    async publish(request) {
      const result = await publisher.publish(request);
      const tenantId = (request.body as { tenantId?: unknown }).tenantId;
      record(request.actor, typeof tenantId === "string" ? tenantId : SYSTEM_TENANT, result, request);
      return result;
    },
    async publishRaw(actor, body, publishOptions = {}) {
      const result = await publisher.publishRaw(actor, body, publishOptions);
      record(actor, tenantOfBody(body), result, publishOptions);
      return result;
    },
  };
}

/** The tenant of a serialised message, without parsing a large body: messages put `tenantId` near the start. */
export function tenantOfBody(body: string): string {
  const match = /"tenantId"\s*:\s*"([a-z0-9-]{1,63})"/.exec(body.slice(0, 512));
  return match?.[1] ?? SYSTEM_TENANT;
}

function dueAt(options: PublishOptions, now: number): number {
  if (options.notBefore !== undefined) return Math.max(now, options.notBefore * 1000);
  return now + delayMs(options.delay);
}

function delayMs(delay: Delay | undefined): number {
  if (delay === undefined) return 0;
  if (typeof delay === "number") return delay * 1000;
  const match = /^(\d+)([smhd])$/.exec(delay);
  if (!match) return 0;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

// The collector: one tick of one influencer's collection loop. It claims the tick (so a stray or repeated
// message cannot fork the loop), publishes the next tick before it talks to the provider (so retries never
// shift the cadence), reads the counters within the interval, and appends the point to the Redis stream the
// sink drains into the warehouse. The point's timestamp is the tick's scheduled time, so a redelivered tick
// produces the same point, which the warehouse's primary key keeps once.

import type { CollectorTick } from "../src/domain/influencers/messages.ts";
import { collectorTickMessage } from "../src/domain/influencers/messages.ts";
import { claimTick, recordFailure, recordPoint, recordStatus } from "../src/domain/influencers/registry.ts";
import { tickPublish } from "../src/domain/influencers/ticks.ts";
import type { Publisher } from "../src/publisher/index.ts";
import { defineActor } from "./define.ts";
import type { InfluencerConfig } from "./influencers/config.ts";
import { readCounters } from "./influencers/provider.ts";
import { ok, retry } from "./outcome.ts";

/** A provider read ends this long before the next tick is due, so two ticks of one loop never overlap. */
const NEXT_TICK_MARGIN_MS = 50;

export type CollectorSettings = Pick<
  InfluencerConfig,
  "providerUrl" | "fetchTimeoutMs" | "fetchAttempts" | "stream" | "tickPrecisionMs"
>;

export function createCollectorActor(settings: CollectorSettings) {
  return defineActor({
    name: "collector",
    schema: collectorTickMessage,
    async handler(tick, ctx) {
      const startedAt = Date.now();
      const claim = await claimTick(ctx.redis, tick, startedAt);
      if (claim.verdict === "gone" || claim.verdict === "superseded") return ok({ ended: claim.verdict });
      if (claim.verdict === "stopped") {
        await recordStatus(ctx.redis, settings.stream, {
          kind: "status",
          tenantId: tick.tenantId,
          influencerId: tick.influencerId,
          status: "stopped",
          intervalSeconds: claim.intervalSeconds,
          error: null,
          at: startedAt,
        });
        return ok({ ended: "stopped" });
      }

      // Scheduled first: the next tick's time depends only on this tick's, never on how the read goes.
      const next: CollectorTick = { ...tick, at: claim.nextTickAt };
      const scheduling = publishTick(ctx.publisher, next, settings.tickPrecisionMs);
      scheduling.catch(() => {}); // awaited below; this only keeps an early rejection from going unhandled

      let collected: "point" | "failed" | "late" | "already" = "already";
      if (claim.late) collected = "late";
      else if (!claim.recorded) {
        const interval = claim.intervalSeconds * 1000;
        const reading = await readCounters(settings.providerUrl, tick.influencerId, {
          timeoutMs: settings.fetchTimeoutMs,
          attempts: settings.fetchAttempts,
          deadline: Math.min(
            tick.at + interval - NEXT_TICK_MARGIN_MS,
            claim.nextTickAt - NEXT_TICK_MARGIN_MS,
          ),
        });
        const base = {
          tenantId: tick.tenantId,
          influencerId: tick.influencerId,
          intervalSeconds: claim.intervalSeconds,
        };
        if (reading.ok) {
          await recordPoint(ctx.redis, settings.stream, {
            kind: "point",
            ...base,
            ts: tick.at,
            startedAt,
            fetchedAt: reading.fetchedAt,
            counters: reading.counters,
          });
          collected = "point";
        } else {
          ctx.log.warn("provider read failed", {
            influencerId: tick.influencerId,
            error: reading.error,
            attempts: reading.attempts,
          });
          await recordFailure(ctx.redis, settings.stream, {
            kind: "status",
            ...base,
            status: "active",
            error: reading.error,
            at: Date.now(),
          });
          collected = "failed";
        }
      }

      try {
        await scheduling;
      } catch (error) {
        // Without the next tick the loop would end: let QStash deliver this tick again, which publishes the
        // same next tick (same deduplication id) and does not read the provider twice.
        return retry(
          `could not schedule the next tick: ${error instanceof Error ? error.message : error}`,
          1,
        );
      }
      return ok({ at: tick.at, next: next.at, lagMs: startedAt - tick.at, collected });
    },
  });
}

async function publishTick(publisher: Publisher, tick: CollectorTick, precisionMs: number): Promise<void> {
  const { body, ...options } = tickPublish(tick, precisionMs, Date.now());
  await publisher.publish({ actor: "collector", body, ...options });
}

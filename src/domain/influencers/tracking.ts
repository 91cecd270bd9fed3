// Starting to track influencers: register them, then publish the first tick of every new loop. Shared by the
// edge's POST /v1/influencers and the tests and benchmark that drive the collector without the edge.
import type { CollectorTick } from "./messages.ts";
import { type Registration, type RegistryRedis, registerInfluencers } from "./registry.ts";
import { type TickPublish, tickPublish } from "./ticks.ts";

/** Publishes one tick (the publisher's `publish` with actor "collector", in practice). */
export type PublishTick = (request: TickPublish) => Promise<unknown>;

/** First ticks published at once; a POST may carry up to a thousand ids. */
const PUBLISH_CONCURRENCY = 32;

export interface TrackRequest {
  tenantId: string;
  influencerIds: readonly string[];
  intervalSeconds: number;
  precisionMs: number;
  now: number;
}

export interface TrackResult {
  registrations: Registration[];
  /** Ids whose first tick could not be published; registering them again publishes it again. */
  unpublished: { influencerId: string; error: string }[];
}

/** Registers the influencers and publishes the ticks the registry asks for (deduplicated, so repeats are safe). */
export async function startTracking(
  redis: RegistryRedis,
  publish: PublishTick,
  request: TrackRequest,
): Promise<TrackResult> {
  const registrations = await registerInfluencers(redis, request);
  const todo = registrations.filter((r) => r.publish);
  const unpublished: TrackResult["unpublished"] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const registration = todo[next++] as Registration;
      const tick: CollectorTick = {
        tenantId: request.tenantId,
        influencerId: registration.influencerId,
        generation: registration.generation,
        at: registration.nextTickAt,
      };
      try {
        await publish(tickPublish(tick, request.precisionMs, Date.now()));
      } catch (error) {
        unpublished.push({
          influencerId: registration.influencerId,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, todo.length) }, worker));
  return { registrations, unpublished };
}

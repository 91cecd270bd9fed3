// The messages of the influencer actors: the collector's tick and the metrics read.
import { z } from "zod";
import { influencerId } from "./ids.ts";

const tenantId = z.string().min(1).max(64);
const epochMs = z.number().int().nonnegative();

/**
 * One tick of an influencer's collection loop. `generation` names the loop (a new one starts each time tracking
 * starts), `at` is the tick's scheduled time: the point it collects carries `at` as its timestamp.
 */
export const collectorTickMessage = z.object({
  tenantId,
  influencerId,
  generation: z.string().min(1).max(64),
  at: epochMs,
});
export type CollectorTick = z.infer<typeof collectorTickMessage>;

export const RESOLUTIONS = ["raw", "1m", "1h", "1d"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** A metrics read for one influencer over [start, end), already validated and aligned by the edge. */
export const influencerMetricsMessage = z
  .object({
    tenantId,
    influencerId,
    start: epochMs,
    end: epochMs,
    resolution: z.enum(RESOLUTIONS),
  })
  .refine((m) => m.start < m.end, { message: "start must be before end", path: ["start"] });
export type InfluencerMetricsRequest = z.infer<typeof influencerMetricsMessage>;

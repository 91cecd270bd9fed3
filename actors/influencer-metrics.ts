// Reads one influencer's series from the warehouse. The edge calls this actor directly (signed like a QStash
// delivery, see src/edge/services/actor-call.ts) and relays its answer, so the edge never opens Postgres.
import { influencerMetricsMessage } from "../src/domain/influencers/messages.ts";
import { bucketSeries, rawSeries } from "../src/domain/influencers/series.ts";
import { BUCKET_MS, RANGE_LIMIT_MS } from "../src/domain/influencers/time-range.ts";
import { readInfluencerBuckets, readInfluencerPoints } from "../src/warehouse/influencers.ts";
import { defineActor } from "./define.ts";
import { fail, ok } from "./outcome.ts";

export const influencerMetricsActor = defineActor({
  name: "influencer-metrics",
  schema: influencerMetricsMessage,
  async handler(request, ctx) {
    const { tenantId, influencerId, start, end, resolution } = request;
    // The edge checked the range; checked again here because this route also answers anything signed.
    if (end - start > RANGE_LIMIT_MS[resolution]) return fail(`range too long for resolution ${resolution}`);
    if (resolution === "raw") {
      const points = await readInfluencerPoints(ctx.sql, tenantId, influencerId, start, end);
      return ok(rawSeries(influencerId, start, end, points));
    }
    const width = BUCKET_MS[resolution];
    if (start % width !== 0 || end % width !== 0)
      return fail(`start and end must be aligned to ${resolution}`);
    // One bucket more on the left: the first bucket's change is measured from it.
    const aggregates = await readInfluencerBuckets(
      ctx.sql,
      tenantId,
      influencerId,
      start - width,
      end,
      width,
    );
    return ok(bucketSeries(influencerId, { start, end, resolution }, aggregates));
  },
});

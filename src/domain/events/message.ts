// The ingest actor's message: one validated, normalised batch for one tenant. The edge builds it; the actors
// host checks it again on arrival (the time window is not re-checked: a redelivery an hour later is the same
// batch, accepted when it arrived).
import { z } from "zod";
import { EVENT_KINDS, MAX_BATCH_EVENTS, MONEY_PATTERN, TEXT_LIMITS } from "./fields.ts";

const text = (max: number) => z.string().min(1).max(max);

export const ingestEventSchema = z.strictObject({
  id: text(TEXT_LIMITS.id),
  ts: z.iso.datetime({ precision: 3 }),
  kind: z.enum(EVENT_KINDS),
  channel: text(TEXT_LIMITS.channel),
  campaign: text(TEXT_LIMITS.campaign),
  ad: text(TEXT_LIMITS.ad),
  country: z.string().regex(/^[A-Z]{2}$/),
  city: text(TEXT_LIMITS.city),
  cost: z.string().regex(MONEY_PATTERN),
  revenue: z.string().regex(MONEY_PATTERN),
});

export const ingestMessage = z.object({
  tenantId: z.string().min(1).max(64),
  /** `batchIdFor(tenantId, events)`: the broker's deduplication id too. */
  batchId: z.string().regex(/^b_[0-9a-f]{32}$/),
  events: z.array(ingestEventSchema).min(1).max(MAX_BATCH_EVENTS),
});
export type IngestMessage = z.infer<typeof ingestMessage>;

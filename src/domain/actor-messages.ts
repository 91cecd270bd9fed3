// The message each actor accepts, by actor name: the edge publishes with these types and the actors host
// validates every delivery against the same schema. A new actor adds one line here.
import { z } from "zod";
import { ingestMessage } from "./events/message.ts";
import { failureCallbackMessage } from "./failure-callback.ts";
import { importMessage } from "./imports/messages.ts";
import { collectorTickMessage, influencerMetricsMessage } from "./influencers/messages.ts";
import { monitorMessage } from "./monitoring/messages.ts";
import { queryJobMessage } from "./query-jobs.ts";
import { tenantRecordSchema } from "./tenants.ts";

/** `ping` proves the path end to end: it echoes `echo` and, when given, writes it to the Redis key `recordKey`. */
export const pingMessage = z.object({
  echo: z.string().max(1024),
  recordKey: z.string().min(1).max(256).optional(),
});

/**
 * `tenant-sync` copies a tenant from Redis (the serving copy the edge wrote) to Postgres (the system of record).
 * The snapshot is the record as of `revision`; the actor prefers Redis's copy when it is at least as new.
 */
export const tenantSyncMessage = z.object({
  tenantId: tenantRecordSchema.shape.id,
  snapshot: tenantRecordSchema,
});

export const actorMessages = {
  ping: pingMessage,
  /** One validated batch of ad events for one tenant (src/domain/events/message.ts). */
  ingest: ingestMessage,
  /** One semantic query to run for one tenant (src/domain/query-jobs.ts). */
  query: queryJobMessage,
  /** QStash's failure callback for a `query` message that landed in the DLQ (src/domain/failure-callback.ts). */
  "query-failed": failureCallbackMessage,
  "tenant-sync": tenantSyncMessage,
  /** One tick of one influencer's collection loop (src/domain/influencers/messages.ts). */
  collector: collectorTickMessage,
  /** One metrics read for one influencer, called synchronously by the edge. */
  "influencer-metrics": influencerMetricsMessage,
  /** One chunk of a CSV import, or the upload's closing totals (src/domain/imports/messages.ts). */
  import: importMessage,
  /** One monitoring run: queues, DLQ, alert rules (src/domain/monitoring/messages.ts). */
  monitor: monitorMessage,
} as const;

export type ActorName = keyof typeof actorMessages;
export type ActorMessage<N extends ActorName> = z.infer<(typeof actorMessages)[N]>;

// POST /v1/events in the OpenAPI document. An event's shape is the ingest message's own event schema (the
// limits and kinds every stage checks), widened where the edge accepts more than it stores: `ts` and `id` as
// epoch milliseconds / integers, `country` in any case, money as numbers or absent.
import { z } from "zod";
import { ingestEventSchema, MAX_BATCH_EVENTS } from "../../../domain/events/index.ts";
import { type DocArea, TENANT_ERRORS } from "../document.ts";

const eventTime = z.union([
  z.string().meta({ description: "ISO 8601 with `Z` or `±HH:MM`, or epoch milliseconds as digits" }),
  z.number().int().meta({ description: "Epoch milliseconds" }),
]);
const money = z
  .union([ingestEventSchema.shape.cost, z.number().nonnegative()])
  .optional()
  .meta({ description: "Up to 12 integer digits and 6 decimals; absent means 0" });

export const eventInput = ingestEventSchema
  .extend({
    id: z.union([ingestEventSchema.shape.id, z.number().int()]),
    ts: eventTime.meta({ description: "Within a day ahead of and 400 days behind the server's clock" }),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/)
      .meta({ description: "ISO 3166-1 alpha-2; stored upper case" }),
    cost: money,
    revenue: money,
  })
  .meta({ description: "One ad event; unknown fields are refused" });

export const eventBatch = z.union([
  z.strictObject({ events: z.array(eventInput).min(1).max(MAX_BATCH_EVENTS) }),
  z.array(eventInput).min(1).max(MAX_BATCH_EVENTS),
]);

export const acceptedBatch = z.object({
  batchId: z
    .string()
    .meta({ description: "A hash of the batch: the same batch sent again gets the same id" }),
  accepted: z.number().int(),
  duplicate: z
    .boolean()
    .meta({ description: "This exact batch was accepted before; it is not queued again" }),
});

export const eventsDocs: DocArea = {
  components: { Event: eventInput, EventBatch: eventBatch, AcceptedBatch: acceptedBatch },
  operations: [
    {
      method: "post",
      path: "/v1/events",
      summary: `Send up to ${MAX_BATCH_EVENTS} ad events`,
      description:
        "JSON (`{events: [...]}` or a bare array) or NDJSON (one event per line). The batch is accepted whole " +
        "or refused whole: a 400 names every bad event as `events[<index>].<field>` and nothing is stored. " +
        "Accepted batches are queued and answered at once.",
      tags: ["events"],
      security: "tenant",
      requestBody: { "application/json": "EventBatch", "application/x-ndjson": null },
      responses: {
        202: { description: "Queued", schema: "AcceptedBatch" },
        400: { description: "A bad event or body; `fields` names each (at most 20)", schema: "Error" },
        413: { description: "Body over 1 MiB, or a batch too large to queue", schema: "Error" },
        415: { description: "Neither application/json nor application/x-ndjson", schema: "Error" },
        ...TENANT_ERRORS,
      },
    },
  ],
};

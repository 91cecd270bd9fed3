// POST /v1/events: a batch of up to 1,000 ad events, as JSON (`{events: [...]}` or a bare array) or NDJSON.
// The batch is validated whole and refused whole: one bad event is a 400 naming every bad event's index and
// field, and nothing is stored. An accepted batch is published to the ingest actor in the tenant's ingest
// lane and answered 202 at once; its id is a hash of its content, so an identical retried POST gets the same
// id and the broker does not enqueue it twice (and were it delivered twice, the actor would store it once).
import type { Context, Hono } from "hono";
import {
  type BatchError,
  type IngestEvent,
  ingestMessageText,
  validateBatch,
  validateNdjsonBatch,
} from "../../domain/events/index.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { tenantAuth } from "../middleware/tenant-auth.ts";
import { parseJsonBody, readBodyText } from "../services/json-body.ts";

/** Largest request body: a full batch of ordinary events is a few hundred KB. */
export const EVENTS_MAX_BODY_BYTES = 1 << 20;

/** The broker refuses larger messages (QStash's own limit on small plans is 1 MB). */
const MAX_MESSAGE_BYTES = 1_000_000;

/**
 * Batches of one tenant delivered at once. Two lets one batch's Redis step overlap the next one's write;
 * more would mostly wait on the same rollup rows.
 */
export const INGEST_PARALLELISM = 2;

/** The tenant's ingest lane at the broker. `.` never appears in a tenant id, so no query lane is named so. */
export function ingestLane(tenantId: string): string {
  return `${tenantId}.ingest`;
}

export interface AcceptedBatch {
  batchId: string;
  accepted: number;
  /** True when this exact batch had been accepted before (a retried POST): it is not enqueued again. */
  duplicate: boolean;
}

export function registerEvents(app: Hono<EdgeEnv>, services: EdgeServices): void {
  app.post("/v1/events", tenantAuth(services), async (c) => {
    const events = await readBatch(c);
    const publisher = services.publisher;
    if (!publisher)
      throw new ApiError(503, "ingestion_unavailable", "Event ingestion is not configured (no QStash)");
    const tenantId = c.get("tenant").id;
    // The message is the text JSON.stringify({tenantId, batchId, events}) would give, built with one
    // serialisation of the events. It is published as text: the events were just validated into exactly the
    // ingest message's form, and the actors host checks every delivery against its schema.
    const message = await ingestMessageText(tenantId, events);
    if (message.bytes > MAX_MESSAGE_BYTES) {
      throw new ApiError(
        413,
        "payload_too_large",
        "The batch is too large to queue; send fewer events per request",
      );
    }
    let published: { deduplicated: boolean };
    try {
      published = await publisher.publishRaw("ingest", message.text, {
        deduplicationId: message.batchId,
        flowControl: { key: ingestLane(tenantId), parallelism: INGEST_PARALLELISM },
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ApiError(503, "queue_unavailable", `Could not queue the batch; retry it: ${detail}`);
    }
    const accepted: AcceptedBatch = {
      batchId: message.batchId,
      accepted: events.length,
      duplicate: published.deduplicated,
    };
    return c.json(accepted, 202);
  });
}

/** The body's events, validated and normalised; 400 / 413 / 415 otherwise. */
async function readBatch(c: Context<EdgeEnv>): Promise<IngestEvent[]> {
  const type = (c.req.header("content-type") ?? "application/json").split(";")[0]?.trim().toLowerCase();
  const ndjson =
    type === "application/x-ndjson" || type === "application/jsonl" || type === "application/ndjson";
  if (!ndjson && type !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "Send application/json or application/x-ndjson");
  }
  const text = await readBodyText(c, EVENTS_MAX_BODY_BYTES);
  const rules = { now: Date.now() };
  if (ndjson) return accept(validateNdjsonBatch(text, rules));
  return accept(validateBatch(parseJsonBody(text), rules));
}

function accept(
  parsed: { ok: true; events: IngestEvent[] } | { ok: false; errors: BatchError[] },
): IngestEvent[] {
  if (parsed.ok) return parsed.events;
  const [first] = parsed.errors as [BatchError];
  throw new ApiError(400, "invalid_events", `${first.field}: ${first.message} (the batch was not stored)`, {
    fields: parsed.errors,
  });
}

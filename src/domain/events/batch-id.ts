// A batch's id is a hash of its content: an identical retried POST gets the same id, which is also its
// deduplication id at the broker, so the retry is not even enqueued twice.
import type { IngestEvent } from "./fields.ts";

/**
 * `b_` and 32 hex digits (128 bits) of SHA-256 over the tenant and the normalised events. Web Crypto only, so
 * it runs on Workers.
 *
 * @example const batchId = await batchIdFor("acme", events); // "b_3f1c…"
 */
export async function batchIdFor(tenantId: string, events: readonly IngestEvent[]): Promise<string> {
  // Normalised events serialise identically however they were sent (field order, number or text, offsets).
  return (await hashedEvents(tenantId, JSON.stringify(events))).batchId;
}

/** The ingest actor's message as sent: `JSON.stringify({tenantId, batchId, events})`, and its size. */
export interface IngestMessageText {
  batchId: string;
  text: string;
  /** UTF-8 length of `text`. */
  bytes: number;
}

/**
 * The batch's id and its ingest message, serialising the events once for both (a batch is ~100 KB of JSON).
 *
 * @example const { batchId, text } = await ingestMessageText("acme", events);
 */
export async function ingestMessageText(
  tenantId: string,
  events: readonly IngestEvent[],
): Promise<IngestMessageText> {
  const eventsJson = JSON.stringify(events);
  const { batchId, hashedBytes } = await hashedEvents(tenantId, eventsJson);
  const head = `{"tenantId":${JSON.stringify(tenantId)},"batchId":"${batchId}","events":`;
  const encoder = new TextEncoder();
  // The hashed text is the tenant id, a newline and the events' JSON, already encoded once.
  const eventsBytes = hashedBytes - encoder.encode(tenantId).byteLength - 1;
  return {
    batchId,
    text: `${head}${eventsJson}}`,
    bytes: encoder.encode(head).byteLength + eventsBytes + 1,
  };
}

async function hashedEvents(
  tenantId: string,
  eventsJson: string,
): Promise<{ batchId: string; hashedBytes: number }> {
  const bytes = new TextEncoder().encode(`${tenantId}\n${eventsJson}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest.subarray(0, 16)) hex += byte.toString(16).padStart(2, "0");
  return { batchId: `b_${hex}`, hashedBytes: bytes.byteLength };
}

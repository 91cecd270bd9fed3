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
  const bytes = new TextEncoder().encode(`${tenantId}\n${JSON.stringify(events)}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest.subarray(0, 16)) hex += byte.toString(16).padStart(2, "0");
  return `b_${hex}`;
}

import { describe, expect, test } from "bun:test";
import {
  batchIdFor,
  ingestMessage,
  ingestMessageText,
  validateBatch,
} from "../../../src/domain/events/index.ts";

const now = Date.UTC(2026, 10, 25, 12);
const event = {
  id: "e1",
  ts: "2026-11-25T11:00:00Z",
  kind: "view",
  channel: "email",
  campaign: "c",
  ad: "a",
  country: "FR",
  city: "Lyon",
};

function normalised(events: unknown) {
  const parsed = validateBatch(events, { now });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.events;
}

describe("batchIdFor", () => {
  test("same events, however spelled, same id; another tenant or another event, another id", async () => {
    const a = await batchIdFor("acme", normalised([event]));
    const b = await batchIdFor(
      "acme",
      normalised({ events: [{ ...event, ts: "2026-11-25T12:00:00+01:00", cost: "0.00" }] }),
    );
    expect(a).toMatch(/^b_[0-9a-f]{32}$/);
    expect(b).toBe(a);
    expect(await batchIdFor("other", normalised([event]))).not.toBe(a);
    expect(await batchIdFor("acme", normalised([{ ...event, id: "e2" }]))).not.toBe(a);
  });
});

describe("ingestMessageText", () => {
  test("the message is the JSON of the ingest message the schema accepts, with the batch's id and UTF-8 size", async () => {
    const events = normalised([
      event,
      { ...event, id: "e2", city: "São Paulo", campaign: "été", cost: 1.25 },
      { ...event, id: "e3", ad: 'quote " and \\ backslash', city: "東京" },
    ]);
    const message = await ingestMessageText("acme", events);
    expect(message.batchId).toBe(await batchIdFor("acme", events));
    const parsed = ingestMessage.parse(JSON.parse(message.text));
    expect(parsed).toEqual({ tenantId: "acme", batchId: message.batchId, events });
    expect(message.text).toBe(JSON.stringify(parsed));
    expect(message.bytes).toBe(new TextEncoder().encode(message.text).byteLength);
    expect(message.bytes).toBeGreaterThan(message.text.length);
  });
});

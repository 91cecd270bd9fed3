// Rollups written by the ingest actor (the outbox variant of the write) answer exactly what raw events do:
// random events delivered through the real host in two overlapping batches, one of them twice, then random
// queries compiled for the rollup the compiler picks and for raw events.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { batchIdFor, type IngestEvent } from "../../src/domain/events/index.ts";
import { parseQuery } from "../../src/domain/query/index.ts";
import { NOW, testEvents, validQuery } from "../domain/query/arbitraries.ts";
import { referenceAnswer, type TestEvent, toStored } from "../domain/query/reference.ts";
import { type IngestStack, startIngestStack } from "./ingest-stack.ts";
import { deliver } from "./support.ts";

let stack: IngestStack;

beforeAll(async () => {
  stack = await startIngestStack("rollups");
});

afterAll(async () => {
  await stack?.close();
});

function asIngestEvent(event: TestEvent): IngestEvent {
  const stored = toStored(event);
  return {
    id: stored.eventId,
    ts: new Date(event.ts).toISOString(),
    kind: event.kind,
    channel: stored.channel,
    campaign: stored.campaign,
    ad: stored.ad,
    country: stored.country,
    city: stored.city,
    cost: String(stored.cost).replace(/\.?0+$/, "") || "0",
    revenue: String(stored.revenue).replace(/\.?0+$/, "") || "0",
  };
}

async function deliverBatch(tenantId: string, events: IngestEvent[]): Promise<void> {
  if (events.length === 0) return;
  const body = JSON.stringify({ tenantId, batchId: await batchIdFor(tenantId, events), events });
  const response = await deliver(stack.host, "ingest", { body, headers: { "Upstash-Retried": "0" } });
  if (response.status !== 200)
    throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
}

test("after ingestion through the actor, rollup answers == raw answers == brute force", async () => {
  const sources: Record<string, number> = {};
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      testEvents.filter((events) => events.length > 0),
      fc.array(validQuery, { minLength: 1, maxLength: 4 }),
      async (generated, queries) => {
        const tenantId = stack.tenant(`ingest-run-${++run}`);
        const events = generated.map((e, i) => ({ ...e, tenantId, eventId: `e${i}` }) as TestEvent);
        const normalised = events.map(asIngestEvent);
        const half = Math.ceil(normalised.length / 2);
        // Overlapping batches, the first delivered twice: every event must count once.
        await deliverBatch(tenantId, normalised.slice(0, half + 1));
        await deliverBatch(tenantId, normalised.slice(0, half + 1));
        await deliverBatch(tenantId, normalised.slice(half));

        for (const input of queries) {
          const parsed = parseQuery(input, { now: NOW });
          if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
          // The actor measured the minute rollup's window on the wall clock: so does the compiler.
          const chosen = await stack.warehouse.run(parsed.query, tenantId, NOW, true, Date.now());
          const raw = await stack.warehouse.run(parsed.query, tenantId, NOW, false);
          expect(chosen.rows).toEqual(raw.rows);
          expect(raw.rows).toEqual(referenceAnswer(events, parsed.query, tenantId, NOW));
          sources[chosen.source] = (sources[chosen.source] ?? 0) + 1;
        }
      },
    ),
    { numRuns: 12 },
  );
  const fromRollups =
    (sources.rollup_day_campaign ?? 0) +
    (sources.rollup_day ?? 0) +
    (sources.rollup_hour ?? 0) +
    (sources.rollup_minute ?? 0);
  expect(fromRollups).toBeGreaterThan(0);
});

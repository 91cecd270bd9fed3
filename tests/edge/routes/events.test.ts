// POST /v1/events end to end: edge (auth, validation) → local QStash broker → actors host → ingest actor →
// Postgres + Redis, all real.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ingestActor } from "../../../actors/ingest.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import type { IngestEvent } from "../../../src/domain/events/index.ts";
import { keys } from "../../../src/domain/keys.ts";
import { EVENTS_MAX_BODY_BYTES } from "../../../src/edge/routes/events.ts";
import {
  bruteForceLeaderboards,
  expectedTotals,
  LEADERBOARD_METRICS,
  makeEvents,
  minutesOf,
  rawTotals,
  rollupTotals,
  storedLeaderboards,
} from "../../events/support.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";

let h: EdgeHarness;
let tenant: { id: string; apiKey: string };

beforeAll(async () => {
  h = await startHarness({ actors: [tenantSyncActor, ingestActor] });
  tenant = await h.createTenant({ rateLimit: 10_000 });
});
afterAll(() => h.stop());

const now = Date.now();
let seed = 100;
/** Fresh events with ids of their own, in the last ten minutes. */
function events(n: number): IngestEvent[] {
  seed++;
  return makeEvents(n, { from: now - 10 * 60_000, to: now, seed, idPrefix: `s${seed}` });
}

function post(body: string, options: { type?: string; key?: string } = {}) {
  return h.request("/v1/events", {
    method: "POST",
    key: options.key ?? tenant.apiKey,
    headers: { "content-type": options.type ?? "application/json" },
    body,
  });
}

async function storedCount(tenantId: string): Promise<number> {
  const [row] = await h.host.warehouse
    .sql`select count(*)::int as n from ad_events where tenant_id = ${tenantId}`;
  return (row as { n: number }).n;
}

/** Waits until the tenant has `n` raw events (the actor has run), then for its Redis step to finish. */
async function waitForStored(tenantId: string, n: number): Promise<void> {
  await waitFor(`${n} stored events`, async () => ((await storedCount(tenantId)) === n ? true : undefined));
  await waitFor("the outbox to drain", async () => {
    const rows = await h.host.warehouse.sql`select 1 from leaderboard_outbox where tenant_id = ${tenantId}`;
    return rows.length === 0 ? true : undefined;
  });
}

describe("POST /v1/events", () => {
  test("202 with a batch id; the events reach raw, rollups and leaderboards, and the data version goes up", async () => {
    const t = await h.createTenant();
    const batch = events(250);
    const response = await post(JSON.stringify({ events: batch }), { key: t.apiKey });
    expect(response.status).toBe(202);
    const body = await json(response);
    expect(body).toEqual({
      batchId: expect.stringMatching(/^b_[0-9a-f]{32}$/),
      accepted: 250,
      duplicate: false,
    });

    await waitForStored(t.id, 250);
    const expected = expectedTotals(batch);
    expect(await rawTotals(h.host.warehouse, t.id)).toEqual(expected);
    expect(await rollupTotals(h.host.warehouse, "ad_rollup_day", t.id)).toEqual(expected);
    for (const metric of LEADERBOARD_METRICS) {
      expect(await storedLeaderboards(h.redis, t.id, metric, minutesOf(batch))).toEqual(
        bruteForceLeaderboards(batch, metric),
      );
    }
    expect(Number(await h.redis.get(keys.dataVersion(t.id)))).toBe(1);
  });

  test("an identical retried POST gets the same batch id, is not queued again, and counts once", async () => {
    const t = await h.createTenant();
    const batch = events(40);
    const first = await json(await post(JSON.stringify(batch), { key: t.apiKey }));
    // The same events spelled differently: bare array vs {events}, another field order, text vs number.
    const respelled = batch.map(({ revenue, cost, ...rest }) => ({ cost: Number(cost), revenue, ...rest }));
    const second = await json(await post(JSON.stringify({ events: respelled }), { key: t.apiKey }));
    expect(second).toEqual({ ...first, duplicate: true });
    await waitForStored(t.id, 40);
    await Bun.sleep(100);
    expect(await storedCount(t.id)).toBe(40);
    expect(Number(await h.redis.get(keys.dataVersion(t.id)))).toBe(1);
    expect(await storedLeaderboards(h.redis, t.id, "clicks", minutesOf(batch))).toEqual(
      bruteForceLeaderboards(batch, "clicks"),
    );
  });

  test("NDJSON is accepted", async () => {
    const t = await h.createTenant();
    const batch = events(30);
    const ndjson = `${batch.map((event) => JSON.stringify(event)).join("\n")}\n`;
    const response = await post(ndjson, { key: t.apiKey, type: "application/x-ndjson; charset=utf-8" });
    expect(response.status).toBe(202);
    expect((await json(response)).accepted).toBe(30);
    await waitForStored(t.id, 30);
  });

  test("one bad event refuses the whole batch: 400 naming its index and field, nothing stored", async () => {
    const t = await h.createTenant();
    const batch: unknown[] = events(20);
    batch[12] = { ...(batch[12] as object), country: "Atlantis" };
    batch[15] = { ...(batch[15] as object), kind: "purchase" };
    const response = await post(JSON.stringify({ events: batch }), { key: t.apiKey });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("invalid_events");
    expect(error.message).toStartWith("events[12].country: must be an ISO 3166-1 alpha-2 code");
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual([
      "events[12].country",
      "events[15].kind",
    ]);
    await Bun.sleep(200);
    expect(await storedCount(t.id)).toBe(0);
  });

  test("far-future and ancient events are refused with the reason", async () => {
    const [event] = events(1) as [IngestEvent];
    const future = await json(
      await post(JSON.stringify([{ ...event, ts: new Date(now + 3 * 86_400_000).toISOString() }])),
    );
    expect(future.error.message).toBe(
      "events[0].ts: is more than 1 day in the future (check the clock and the offset) (the batch was not stored)",
    );
    const ancient = await json(await post(JSON.stringify([{ ...event, ts: "2001-09-09T01:46:40Z" }])));
    expect(ancient.error.fields).toEqual([
      { field: "events[0].ts", message: "is more than 400 days old; use a bulk import for history" },
    ]);
  });

  test("bad bodies: malformed JSON, empty, too many events, oversized, wrong type; no key", async () => {
    expect((await json(await post("{"))).error.code).toBe("invalid_json");
    expect((await json(await post(""))).error.code).toBe("invalid_json");
    const tooMany = await json(await post(JSON.stringify({ events: events(1001) })));
    expect(tooMany.error.fields).toEqual([
      { field: "events", message: "must hold 1 to 1000 events; got 1001" },
    ]);
    const huge = await post(JSON.stringify({ events: [{ id: "x".repeat(EVENTS_MAX_BODY_BYTES) }] }));
    expect(huge.status).toBe(413);
    const csv = await post("id,ts\n", { type: "text/csv" });
    expect(csv.status).toBe(415);
    const anonymous = await h.request("/v1/events", { method: "POST", body: JSON.stringify(events(1)) });
    expect(anonymous.status).toBe(401);
  });
});

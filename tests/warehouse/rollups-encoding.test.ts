import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import { ensurePartitions } from "../../src/warehouse/partitions.ts";
import { type EventToStore, insertEventsWithRollups } from "../../src/warehouse/rollups.ts";
import { throwawayDatabase } from "./helpers.ts";

const target = throwawayDatabase();
let wh: Warehouse;

beforeAll(async () => {
  await migrate(target.url);
  wh = openWarehouse(target.url, { max: 2 });
  await ensurePartitions(wh.db, "ad_events", "2026-03-01", "2026-03-01");
  await ensurePartitions(wh.db, "ad_rollup_minute", "2026-03-01", "2026-03-01");
});
afterAll(async () => {
  await wh?.close();
  await target.drop();
});

// The statement carries each column as one array literal: text that means something inside one (quotes,
// backslashes, commas, braces, the word NULL, spaces) must arrive exactly as sent.
const AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", "NULL", " padded ", "", "ünï ✓", '\\"', "}{,"];

describe("the ingest statement's encoding", () => {
  test("awkward text in every text column lands as sent, in raw events and rollups", async () => {
    const events: EventToStore[] = AWKWARD.map((text, i) => ({
      eventId: `id ${text}`,
      ts: new Date(Date.UTC(2026, 2, 1, 10, i)),
      kind: "click",
      channel: `ch ${text}`,
      campaign: `camp ${text}`,
      ad: `ad ${text}`,
      country: "US",
      city: `city ${text}`,
      cost: "1.5",
      revenue: i % 2 === 0 ? "2" : undefined,
    }));
    expect((await insertEventsWithRollups(wh.db, "enc", events)).inserted).toBe(events.length);

    const raw = await wh.sql<
      { event_id: string; channel: string; campaign: string; ad: string; city: string }[]
    >`
      SELECT event_id, channel, campaign, ad, city FROM ad_events WHERE tenant_id = 'enc' ORDER BY ts`;
    expect(raw.map((row) => [row.event_id, row.channel, row.campaign, row.ad, row.city])).toEqual(
      events.map((event) => [event.eventId, event.channel, event.campaign, event.ad, event.city]),
    );
    const [money] = await wh.sql<{ cost: string; revenue: string }[]>`
      SELECT sum(cost)::text AS cost, sum(revenue)::text AS revenue FROM ad_events WHERE tenant_id = 'enc'`;
    expect(Number(money?.cost)).toBe(1.5 * AWKWARD.length);
    expect(Number(money?.revenue)).toBe(2 * Math.ceil(AWKWARD.length / 2));

    const hours = await wh.sql<{ ad: string; city: string; clicks: string }[]>`
      SELECT ad, city, clicks FROM ad_rollup_hour WHERE tenant_id = 'enc' ORDER BY ad COLLATE "C"`;
    expect(hours.map((row) => [row.ad, row.city, Number(row.clicks)])).toEqual(
      events
        .map((event): [string, string, number] => [event.ad, event.city, 1])
        .sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))),
    );

    // The same events again add nothing.
    expect((await insertEventsWithRollups(wh.db, "enc", events)).inserted).toBe(0);
  });
});

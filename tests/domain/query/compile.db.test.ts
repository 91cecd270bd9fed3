// Compiled queries on the real warehouse: hand-checked numbers, every source, tenant isolation, hostile values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseQuery, type Query } from "../../../src/domain/query/index.ts";
import { NOW } from "./arbitraries.ts";
import { referenceAnswer, type TestEvent, toStored } from "./reference.ts";
import { openTestWarehouse, type TestWarehouse } from "./support.ts";

let tw: TestWarehouse;
const stored: TestEvent[] = [];

const event = (
  tenantId: string,
  eventId: string,
  iso: string,
  kind: TestEvent["kind"],
  more: Partial<TestEvent> = {},
) =>
  ({
    tenantId,
    eventId,
    ts: Date.parse(iso),
    kind,
    channel: "google",
    campaign: "spring",
    ad: "a1",
    country: "US",
    city: "New York",
    costMicros: 0,
    revenueMicros: 0,
    ...more,
  }) satisfies TestEvent;

// New York moves to daylight time at 2026-03-08T07:00Z: 04:30Z is still March 7th there, 07:30Z is March 8th.
const ACME = [
  event("acme", "i1", "2026-03-08T04:30:00Z", "impression", { costMicros: 100_000 }),
  event("acme", "i2", "2026-03-08T04:31:00Z", "impression", { costMicros: 100_000 }),
  event("acme", "c1", "2026-03-08T04:32:00Z", "click", { costMicros: 500_000 }),
  event("acme", "v1", "2026-03-08T07:30:00Z", "conversion", { revenueMicros: 20_000_000 }),
  event("acme", "i3", "2026-03-08T10:00:00Z", "impression", {
    channel: "facebook",
    ad: "a2",
    country: "FR",
    city: "Paris",
    costMicros: 200_000,
  }),
];
// Another tenant with the same dimensions and far larger numbers: any leak would show.
const OTHER = ACME.map((e) => ({ ...e, tenantId: "other", costMicros: e.costMicros * 1000 + 1 }));

async function store(events: TestEvent[]): Promise<void> {
  for (const tenantId of new Set(events.map((e) => e.tenantId))) {
    await tw.store(tenantId, events.filter((e) => e.tenantId === tenantId).map(toStored));
  }
  stored.push(...events);
}

function valid(input: unknown): Query {
  const result = parseQuery(input, { now: NOW });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.query;
}

beforeAll(async () => {
  tw = await openTestWarehouse();
  await store([...ACME, ...OTHER]);
});

afterAll(async () => {
  await tw?.close();
});

describe("compiled SQL on Postgres", () => {
  test("the design document's query, by local day in New York, with every derived measure", async () => {
    const query = valid({
      measures: ["clicks", "impressions", "spend", "ctr", "cpc", "roas", "conversions", "revenue"],
      dimensions: ["channel"],
      timeDimension: { granularity: "day", dateRange: ["2026-03-07", "2026-03-08"] },
      filters: [{ member: "channel", operator: "equals", values: ["google", "facebook"] }],
      order: [
        ["ts", "asc"],
        ["clicks", "desc"],
      ],
      timezone: "America/New_York",
    });
    const { rows, source } = await tw.run(query, "acme", NOW);
    expect(source).toBe("rollup_hour");
    expect(rows).toEqual([
      {
        ts: "2026-03-07T00:00:00.000",
        channel: "google",
        impressions: 2,
        clicks: 1,
        conversions: 0,
        spend: 0.7,
        revenue: 0,
        ctr: 0.5,
        cpc: 0.7,
        roas: 0,
      },
      {
        ts: "2026-03-08T00:00:00.000",
        channel: "facebook",
        impressions: 1,
        clicks: 0,
        conversions: 0,
        spend: 0.2,
        revenue: 0,
        // No clicks: cost per click is unknown, not 0 and not infinite.
        ctr: 0,
        cpc: null,
        roas: 0,
      },
      {
        ts: "2026-03-08T00:00:00.000",
        channel: "google",
        impressions: 0,
        clicks: 0,
        conversions: 1,
        spend: 0,
        revenue: 20,
        ctr: null,
        cpc: null,
        roas: null,
      },
    ]);
  });

  test("every source gives the brute-force answer", async () => {
    const base = { measures: ["impressions", "clicks", "spend", "cpc"], dimensions: ["channel", "city"] };
    const cases: [string, unknown][] = [
      [
        "rollup_day",
        { ...base, timeDimension: { granularity: "day", dateRange: ["2026-03-07", "2026-03-09"] } },
      ],
      [
        "rollup_hour",
        {
          ...base,
          timeDimension: { granularity: "week", dateRange: ["2026-03-02", "2026-03-15"] },
          timezone: "America/New_York",
        },
      ],
      [
        "rollup_minute",
        {
          ...base,
          timeDimension: { granularity: "hour", dateRange: ["2026-03-08", "2026-03-08"] },
          timezone: "Asia/Kolkata",
        },
      ],
      ["raw", { ...base, timeDimension: { dateRange: ["2026-03-08T04:30:30Z", "2026-03-08T23:59:59Z"] } }],
      ["rollup_day", { ...base, timeDimension: { granularity: "month", dateRange: "this month" } }],
      [
        "rollup_day_campaign",
        {
          ...base,
          dimensions: ["channel", "country"],
          timeDimension: { granularity: "day", dateRange: ["2026-03-07", "2026-03-09"] },
        },
      ],
      [
        "rollup_day_campaign",
        {
          ...base,
          dimensions: ["campaign"],
          timeDimension: { granularity: "month", dateRange: "this month" },
          filters: [{ member: "country", operator: "notEquals", values: ["FR"] }],
        },
      ],
    ];
    for (const [expectedSource, input] of cases) {
      const query = valid(input);
      const { rows, source } = await tw.run(query, "acme", NOW);
      expect(source).toBe(expectedSource);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(referenceAnswer(stored, query, "acme", NOW));
      expect((await tw.run(query, "acme", NOW, false)).rows).toEqual(rows);
    }
  });

  test("measure filters apply after aggregation; null ratios are outside any list", async () => {
    const query = valid({
      measures: ["impressions", "cpc"],
      dimensions: ["channel"],
      filters: [
        { member: "impressions", operator: "gte", values: [1] },
        { member: "cpc", operator: "notIn", values: [0.7] },
      ],
    });
    expect((await tw.run(query, "acme", NOW)).rows).toEqual([
      { channel: "facebook", impressions: 1, cpc: null },
    ]);
  });

  test("another tenant's rows never appear, and a tenant without data gets zeros, not someone else's", async () => {
    const total = valid({ measures: ["impressions", "spend", "ctr"] });
    expect((await tw.run(total, "acme", NOW)).rows).toEqual([{ impressions: 3, spend: 0.9, ctr: 1 / 3 }]);
    expect((await tw.run(total, "nobody", NOW)).rows).toEqual([{ impressions: 0, spend: 0, ctr: null }]);
    const byAd = valid({ dimensions: ["ad"], measures: ["spend"] });
    expect((await tw.run(byAd, "nobody", NOW)).rows).toEqual([]);
  });

  test("hostile values are only values: they match nothing and change nothing", async () => {
    const hostile = ["'; DROP TABLE ad_events; --", "google' OR '1'='1", "%", "_oogle", "\\", "$1"];
    const query = valid({
      measures: ["clicks"],
      dimensions: ["channel"],
      filters: [
        {
          or: [
            { member: "channel", operator: "in", values: hostile },
            { member: "channel", operator: "contains", values: hostile },
          ],
        },
      ],
    });
    expect((await tw.run(query, "acme", NOW)).rows).toEqual([]);
    const [count] = await tw.wh.sql`select count(*)::int as n from ad_events where tenant_id = 'acme'`;
    expect(count?.n).toBe(ACME.length);
  });

  test("LIKE wildcards in values match themselves", async () => {
    await store([event("acme", "w1", "2026-03-09T01:00:00Z", "click", { campaign: "50%off" })]);
    const query = (value: string) =>
      valid({
        measures: ["clicks"],
        dimensions: ["campaign"],
        filters: [{ member: "campaign", operator: "contains", values: [value] }],
      });
    expect((await tw.run(query("0%o"), "acme", NOW)).rows).toEqual([{ campaign: "50%off", clicks: 1 }]);
    expect((await tw.run(query("0_o"), "acme", NOW)).rows).toEqual([]);
    expect((await tw.run(query("SPR"), "acme", NOW)).rows).toEqual([{ campaign: "spring", clicks: 1 }]);
  });
});

import { describe, expect, test } from "bun:test";
import { canonicalQuery, parseQuery, type Query, queryHash } from "../../../src/domain/query/index.ts";

const NOW = Date.UTC(2026, 10, 25, 15, 7, 12);

function valid(input: unknown, now = NOW): Query {
  const result = parseQuery(input, { now });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.query;
}

const hashOf = async (input: unknown, now = NOW) => (await queryHash(valid(input, now), now)).hash;

const BASE = {
  measures: ["clicks", "impressions", "ctr"],
  dimensions: ["channel", "country"],
  timeDimension: { granularity: "day", dateRange: ["2026-11-01", "2026-11-25"] },
  filters: [
    { member: "channel", operator: "equals", values: ["google", "facebook"] },
    { member: "clicks", operator: "gt", values: [10] },
  ],
  timezone: "Europe/Paris",
};

describe("the same question written differently has one hash", () => {
  const rewrites: [string, unknown][] = [
    [
      "members, filters and values in another order, values repeated",
      {
        ...BASE,
        measures: ["ctr", "impressions", "clicks"],
        dimensions: ["country", "channel"],
        filters: [
          { member: "clicks", operator: "gt", values: ["10"] },
          { member: "channel", operator: "in", values: ["facebook", "google", "google"] },
        ],
      },
    ],
    [
      "defaults spelled out",
      {
        ...BASE,
        limit: 1000,
        offset: 0,
        order: [["ts", "asc"]],
        timeDimension: { ...BASE.timeDimension, dimension: "ts" },
      },
    ],
    ["the zone in another case", { ...BASE, timezone: "europe/paris" }],
    [
      "dates as the instants they mean in the zone",
      {
        ...BASE,
        timeDimension: {
          granularity: "day",
          dateRange: ["2026-11-01T00:00:00+01:00", "2026-11-25T23:59:59.999"],
        },
      },
    ],
    [
      "filters wrapped in and groups",
      { ...BASE, filters: [{ and: [BASE.filters[1], { and: [BASE.filters[0]] }] }] },
    ],
  ];
  for (const [name, rewrite] of rewrites) {
    test(name, async () => {
      expect(await hashOf(rewrite)).toBe(await hashOf(BASE));
    });
  }

  test("the time zone of a query without time buckets", async () => {
    const q = {
      measures: ["clicks"],
      timeDimension: { dateRange: ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"] },
    };
    expect(await hashOf({ ...q, timezone: "Asia/Tokyo" })).toBe(await hashOf(q));
  });

  test("order as an object or as pairs", async () => {
    const a = { ...BASE, order: { clicks: "desc", channel: "asc" } };
    const b = {
      ...BASE,
      order: [
        ["clicks", "desc"],
        ["channel", "asc"],
      ],
    };
    expect(await hashOf(a)).toBe(await hashOf(b));
  });

  test("a relative range and the absolute range it means now", async () => {
    const relative = {
      measures: ["clicks"],
      timeDimension: { granularity: "hour", dateRange: "last 7 days" },
      timezone: "America/New_York",
    };
    const absolute = {
      ...relative,
      timeDimension: { granularity: "hour", dateRange: ["2026-11-19", "2026-11-25"] },
    };
    expect(await hashOf(relative)).toBe(await hashOf(absolute));
  });

  test("hashes are 64 lowercase hex digits and the canonical form is plain JSON", async () => {
    const { hash, canonical } = await queryHash(valid(BASE), NOW);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(canonical))).toEqual(canonical);
  });
});

describe("a different question has another hash", () => {
  const changes: [string, unknown][] = [
    ["another measure", { ...BASE, measures: ["clicks", "impressions", "cpc"] }],
    ["one dimension fewer", { ...BASE, dimensions: ["channel"] }],
    [
      "another filter value",
      { ...BASE, filters: [BASE.filters[0], { member: "clicks", operator: "gt", values: [11] }] },
    ],
    [
      "gte for gt",
      { ...BASE, filters: [BASE.filters[0], { member: "clicks", operator: "gte", values: [10] }] },
    ],
    ["in for notIn", { ...BASE, filters: [{ ...BASE.filters[0], operator: "notIn" }, BASE.filters[1]] }],
    [
      "or for and",
      { ...BASE, filters: [{ or: [BASE.filters[0], { member: "ad", operator: "set" }] }, BASE.filters[1]] },
    ],
    ["another granularity", { ...BASE, timeDimension: { ...BASE.timeDimension, granularity: "week" } }],
    ["another zone", { ...BASE, timezone: "Europe/London" }],
    [
      "another range",
      { ...BASE, timeDimension: { ...BASE.timeDimension, dateRange: ["2026-11-01", "2026-11-24"] } },
    ],
    ["a limit", { ...BASE, limit: 10 }],
    ["an offset", { ...BASE, offset: 10 }],
    ["an order", { ...BASE, order: { clicks: "desc" } }],
    ["the other direction", { ...BASE, order: { ts: "desc" } }],
  ];
  for (const [name, change] of changes) {
    test(name, async () => {
      expect(await hashOf(change)).not.toBe(await hashOf(BASE));
    });
  }
});

describe("relative ranges move with time", () => {
  const today = { measures: ["clicks"], timeDimension: { dateRange: "today" }, timezone: "America/New_York" };

  test("within the same local day the key holds; at local midnight it changes", async () => {
    // 2026-11-25 in New York runs from 05:00Z to 05:00Z on the 26th.
    const morning = Date.UTC(2026, 10, 25, 5, 0, 0);
    const lateEvening = Date.UTC(2026, 10, 26, 4, 59, 59, 999);
    const nextDay = Date.UTC(2026, 10, 26, 5, 0, 0);
    expect(await hashOf(today, lateEvening)).toBe(await hashOf(today, morning));
    expect(await hashOf(today, nextDay)).not.toBe(await hashOf(today, morning));
    expect(canonicalQuery(valid(today), morning).timeDimension?.dateRange).toEqual([
      "2026-11-25T05:00:00.000Z",
      "2026-11-26T04:59:59.999Z",
    ]);
  });

  test("last N minutes changes every minute", async () => {
    const q = { measures: ["clicks"], timeDimension: { dateRange: "last 15 minutes" } };
    expect(await hashOf(q, Date.UTC(2026, 10, 25, 15, 7, 59))).toBe(
      await hashOf(q, Date.UTC(2026, 10, 25, 15, 7, 0)),
    );
    expect(await hashOf(q, Date.UTC(2026, 10, 25, 15, 8, 0))).not.toBe(
      await hashOf(q, Date.UTC(2026, 10, 25, 15, 7, 0)),
    );
  });
});

import { describe, expect, test } from "bun:test";
import {
  compileQuery,
  MINUTE_ROLLUP_DAYS,
  parseQuery,
  SOURCE_DIMENSIONS,
  SOURCE_TABLES,
  type Source,
} from "../../../src/domain/query/index.ts";
import { ROLLUPS } from "../../../src/warehouse/rollups.ts";

const NOW = Date.UTC(2026, 10, 25, 15, 7, 12);

/** The source for a query asked at NOW, with the wall clock at `clock`. */
function sourceOf(input: Record<string, unknown>, clock = NOW): string {
  const result = parseQuery({ measures: ["clicks"], ...input }, { now: NOW });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return compileQuery(result.query, { tenantId: "t", now: NOW, clock }).source;
}

const td = (granularity: string | undefined, dateRange: unknown) => ({
  timeDimension: granularity ? { granularity, dateRange } : { dateRange },
});

describe("the coarsest exact source", () => {
  test("all time, or whole UTC days: the day rollups, whatever the zone when there are no buckets", () => {
    expect(sourceOf({})).toBe("rollup_day_campaign");
    expect(sourceOf({ ...td(undefined, ["2026-11-01", "2026-11-25"]) })).toBe("rollup_day_campaign");
    expect(
      sourceOf({
        ...td(undefined, ["2026-11-01T00:00:00Z", "2026-11-01T23:59:59.999Z"]),
        timezone: "Asia/Kolkata",
      }),
    ).toBe("rollup_day_campaign");
  });

  test("UTC days, weeks and months come from day rollups", () => {
    for (const granularity of ["day", "week", "month"]) {
      expect(sourceOf(td(granularity, ["2026-09-01", "2026-11-25"]))).toBe("rollup_day_campaign");
    }
  });

  test("a zone with whole-hour offsets: hour rollups for its days", () => {
    expect(sourceOf({ ...td("day", "last 7 days"), timezone: "America/New_York" })).toBe("rollup_hour");
    // Local midnight in New York is 05:00Z: hours, even without buckets.
    expect(sourceOf({ ...td(undefined, "today"), timezone: "America/New_York" })).toBe("rollup_hour");
  });

  test("London is UTC in winter (days) but not across the March change (hours)", () => {
    expect(sourceOf({ ...td("day", ["2026-01-05", "2026-02-20"]), timezone: "Europe/London" })).toBe(
      "rollup_day_campaign",
    );
    expect(sourceOf({ ...td("day", ["2026-03-20", "2026-04-05"]), timezone: "Europe/London" })).toBe(
      "rollup_hour",
    );
  });

  test("half- and quarter-hour zones, and 30-minute daylight saving: minute rollups", () => {
    expect(sourceOf({ ...td("day", "last 7 days"), timezone: "Asia/Kolkata" })).toBe("rollup_minute");
    expect(sourceOf({ ...td("hour", "today"), timezone: "Asia/Kathmandu" })).toBe("rollup_minute");
    // Lord Howe's clocks go back 30 minutes on 5 April 2026: asked two days later.
    expect(
      sourceOf(
        { ...td("day", ["2026-04-01", "2026-04-06"]), timezone: "Australia/Lord_Howe" },
        Date.UTC(2026, 3, 7),
      ),
    ).toBe("rollup_minute");
  });

  test("the minute rollup answers only ranges that start within its window of the wall clock", () => {
    const clock = NOW;
    const windowStart = clock - MINUTE_ROLLUP_DAYS * 86_400_000;
    const fromInstant = (from: number) =>
      sourceOf(td("minute", [new Date(from).toISOString(), "2026-11-25T14:59:59.999Z"]), clock);
    expect(fromInstant(windowStart - (windowStart % 60_000) + 60_000)).toBe("rollup_minute");
    expect(fromInstant(windowStart - (windowStart % 60_000))).toBe("raw");
    // Half-hour zones' days that start before the window read raw events.
    expect(sourceOf({ ...td("day", "last 30 days"), timezone: "Asia/Kolkata" })).toBe("raw");
    expect(sourceOf({ ...td("day", "last 7 days"), timezone: "Asia/Kolkata" }, clock + 2 * 86_400_000)).toBe(
      "raw",
    );
  });

  test("granularity finer than a rollup rules it out", () => {
    expect(sourceOf(td("hour", ["2026-11-01", "2026-11-02"]))).toBe("rollup_hour");
    expect(sourceOf(td("minute", ["2026-11-20", "2026-11-21"]))).toBe("rollup_minute");
  });

  test("range edges off a bucket boundary fall back to a finer table, or raw", () => {
    expect(sourceOf(td(undefined, ["2026-11-01T10:00:00Z", "2026-11-01T11:59:59.999Z"]))).toBe("rollup_hour");
    expect(sourceOf(td(undefined, ["2026-11-20T10:15:00Z", "2026-11-20T11:59:59.999Z"]))).toBe(
      "rollup_minute",
    );
    expect(sourceOf(td(undefined, ["2026-11-01T10:15:30Z", "2026-11-01T11:59:59.999Z"]))).toBe("raw");
    expect(sourceOf(td(undefined, ["2026-11-01T10:00:00Z", "2026-11-01T11:59:59Z"]))).toBe("raw");
  });
});

describe("the narrowest rollup that holds every dimension the query names", () => {
  const days = td("day", ["2026-10-27", "2026-11-25"]);

  test("channel, campaign and country, selected or filtered on: the campaign day rollup", () => {
    expect(sourceOf({ ...days, dimensions: ["channel", "country"] })).toBe("rollup_day_campaign");
    expect(sourceOf({ ...days, dimensions: ["channel", "campaign", "country"] })).toBe("rollup_day_campaign");
    expect(
      sourceOf({
        ...days,
        dimensions: ["campaign"],
        filters: [
          {
            or: [
              { member: "country", operator: "equals", values: ["US"] },
              { member: "channel", operator: "set" },
            ],
          },
        ],
      }),
    ).toBe("rollup_day_campaign");
    for (const granularity of ["week", "month"]) {
      expect(sourceOf({ ...td(granularity, ["2026-09-01", "2026-11-25"]), dimensions: ["channel"] })).toBe(
        "rollup_day_campaign",
      );
    }
  });

  test("measure filters do not rule it out: it holds every measure", () => {
    expect(
      sourceOf({
        ...days,
        measures: ["clicks", "ctr"],
        dimensions: ["country"],
        filters: [{ member: "ctr", operator: "gt", values: [0.01] }],
      }),
    ).toBe("rollup_day_campaign");
  });

  test("ad or city, selected or filtered on at any depth: the full day rollup", () => {
    expect(sourceOf({ ...days, dimensions: ["ad"] })).toBe("rollup_day");
    expect(sourceOf({ ...days, dimensions: ["channel", "city"] })).toBe("rollup_day");
    expect(
      sourceOf({
        ...days,
        dimensions: ["channel"],
        filters: [{ member: "city", operator: "equals", values: ["Paris"] }],
      }),
    ).toBe("rollup_day");
    expect(
      sourceOf({
        ...days,
        dimensions: ["country"],
        filters: [
          {
            and: [
              { member: "channel", operator: "equals", values: ["google"] },
              {
                or: [
                  { member: "country", operator: "equals", values: ["US"] },
                  { member: "ad", operator: "startsWith", values: ["a"] },
                ],
              },
            ],
          },
        ],
      }),
    ).toBe("rollup_day");
  });

  test("it is a day rollup: finer buckets or ranges, or an hour-aligned zone, go to the hour and minute rollups", () => {
    expect(sourceOf({ ...td("hour", ["2026-11-01", "2026-11-02"]), dimensions: ["channel"] })).toBe(
      "rollup_hour",
    );
    expect(sourceOf({ ...days, dimensions: ["channel"], timezone: "America/New_York" })).toBe("rollup_hour");
    expect(
      sourceOf({
        ...td(undefined, ["2026-11-20T10:15:00Z", "2026-11-20T11:59:59.999Z"]),
        dimensions: ["channel"],
      }),
    ).toBe("rollup_minute");
  });

  test("without rollups, raw events whatever the dimensions", () => {
    const parsed = parseQuery({ measures: ["clicks"], dimensions: ["channel"], ...days }, { now: NOW });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(compileQuery(parsed.query, { tenantId: "t", now: NOW, useRollups: false }).source).toBe("raw");
  });
});

test("every rollup source names a table the ingest statement folds, with the same dimensions", () => {
  const rollupSources = (Object.keys(SOURCE_TABLES) as Source[]).filter((source) => source !== "raw");
  expect(rollupSources.map((source) => SOURCE_TABLES[source]).sort()).toEqual(
    ROLLUPS.map((rollup) => rollup.table).sort(),
  );
  for (const source of rollupSources) {
    const rollup = ROLLUPS.find((candidate) => candidate.table === SOURCE_TABLES[source]);
    expect([...SOURCE_DIMENSIONS[source]].sort()).toEqual([...(rollup?.dimensions ?? [])].sort());
  }
});

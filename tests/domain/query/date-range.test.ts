import { describe, expect, test } from "bun:test";
import { resolveDateRange } from "../../../src/domain/query/index.ts";

/** A resolved range as ISO instants, `to` exclusive. */
function iso(range: Parameters<typeof resolveDateRange>[0], zone: string, now: string): [string, string] {
  const result = resolveDateRange(range, zone, Date.parse(now));
  if (!result.ok) throw new Error(`${result.field}: ${result.message}`);
  return [new Date(result.range.from).toISOString(), new Date(result.range.to).toISOString()];
}

describe("relative ranges, in the query's zone", () => {
  // Sunday 2026-03-08: New York springs forward at 07:00Z, so its day has 23 hours.
  const now = "2026-03-08T12:34:56.789Z";

  test("today and yesterday are local days, however long", () => {
    expect(iso("today", "America/New_York", now)).toEqual([
      "2026-03-08T05:00:00.000Z",
      "2026-03-09T04:00:00.000Z",
    ]);
    expect(iso("yesterday", "America/New_York", now)).toEqual([
      "2026-03-07T05:00:00.000Z",
      "2026-03-08T05:00:00.000Z",
    ]);
    expect(iso("TODAY ", "Asia/Kolkata", now)).toEqual([
      "2026-03-07T18:30:00.000Z",
      "2026-03-08T18:30:00.000Z",
    ]);
  });

  test("last N days includes today", () => {
    expect(iso("last 7 days", "UTC", now)).toEqual(["2026-03-02T00:00:00.000Z", "2026-03-09T00:00:00.000Z"]);
    expect(iso("last 1 day", "UTC", now)).toEqual(iso("today", "UTC", now));
  });

  test("weeks start on Monday, months on the 1st, years on January 1st", () => {
    expect(iso("this week", "UTC", now)).toEqual(["2026-03-02T00:00:00.000Z", "2026-03-09T00:00:00.000Z"]);
    expect(iso("last 2 weeks", "UTC", now)).toEqual(["2026-02-23T00:00:00.000Z", "2026-03-09T00:00:00.000Z"]);
    expect(iso("this month", "Asia/Tokyo", now)).toEqual([
      "2026-02-28T15:00:00.000Z",
      "2026-03-31T15:00:00.000Z",
    ]);
    expect(iso("last 3 months", "UTC", now)).toEqual([
      "2026-01-01T00:00:00.000Z",
      "2026-04-01T00:00:00.000Z",
    ]);
    expect(iso("this year", "UTC", now)).toEqual(["2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
  });

  test("minutes and hours are whole local units, the current one included", () => {
    expect(iso("last 90 minutes", "UTC", now)).toEqual([
      "2026-03-08T11:05:00.000Z",
      "2026-03-08T12:35:00.000Z",
    ]);
    expect(iso("last 2 hours", "UTC", now)).toEqual(["2026-03-08T11:00:00.000Z", "2026-03-08T13:00:00.000Z"]);
    // Kathmandu is UTC+05:45: its hours start at a quarter past the UTC hour.
    expect(iso("last 2 hours", "Asia/Kathmandu", now)).toEqual([
      "2026-03-08T11:15:00.000Z",
      "2026-03-08T13:15:00.000Z",
    ]);
  });

  test("a bound on N, and unknown phrases, are errors on the whole range", () => {
    expect(resolveDateRange("last 100 years", "UTC", Date.parse(now))).toMatchObject({
      ok: false,
      field: "",
    });
    expect(resolveDateRange("next 7 days", "UTC", Date.parse(now))).toMatchObject({ ok: false, field: "" });
  });
});

describe("absolute ranges", () => {
  const now = "2026-11-25T00:00:00Z";

  test("dates are whole local days, both ends included", () => {
    expect(iso(["2026-03-08", "2026-03-08"], "America/New_York", now)).toEqual([
      "2026-03-08T05:00:00.000Z",
      "2026-03-09T04:00:00.000Z",
    ]);
  });

  test("date-times: local without an offset, absolute with one, the end millisecond included", () => {
    expect(iso(["2026-11-01T10:00:00", "2026-11-01T10:59:59.999"], "Europe/Paris", now)).toEqual([
      "2026-11-01T09:00:00.000Z",
      "2026-11-01T10:00:00.000Z",
    ]);
    expect(iso(["2026-11-01T10:00:00+05:30", "2026-11-01T10:00Z"], "Europe/Paris", now)).toEqual([
      "2026-11-01T04:30:00.000Z",
      "2026-11-01T10:00:00.001Z",
    ]);
  });

  test("a local time skipped by the clock change moves forward; a repeated one takes its first occurrence", () => {
    // 02:30 does not exist in New York on 2026-03-08; 01:30 happens twice on 2026-11-01.
    expect(iso(["2026-03-08T02:30", "2026-03-08T02:30"], "America/New_York", now)[0]).toBe(
      "2026-03-08T07:30:00.000Z",
    );
    expect(iso(["2026-11-01T01:30", "2026-11-01T01:30"], "America/New_York", now)[0]).toBe(
      "2026-11-01T05:30:00.000Z",
    );
  });

  test("impossible dates, reversed ends, and years out of bounds name their end", () => {
    const zone = "UTC";
    const at = Date.parse(now);
    expect(resolveDateRange(["2026-02-29", "2026-03-01"], zone, at)).toMatchObject({
      ok: false,
      field: "[0]",
    });
    expect(resolveDateRange(["2026-03-01", "2026-03-01T24:00"], zone, at)).toMatchObject({
      ok: false,
      field: "[1]",
    });
    expect(resolveDateRange(["2026-03-02", "2026-03-01"], zone, at)).toMatchObject({
      ok: false,
      field: "[1]",
    });
    expect(resolveDateRange(["2026-03-02", "2100-01-01"], zone, at)).toMatchObject({
      ok: false,
      field: "[1]",
    });
    expect(resolveDateRange(["03/02/2026", "2026-03-05"], zone, at)).toMatchObject({
      ok: false,
      field: "[0]",
    });
  });
});

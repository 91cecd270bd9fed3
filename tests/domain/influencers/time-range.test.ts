import { describe, expect, test } from "bun:test";
import { parseMetricsRange, parseTime } from "../../../src/domain/influencers/time-range.ts";

const T = Date.UTC(2026, 0, 10, 12, 34, 56, 789);
const ok = <T>(result: { ok: true; value: T } | { ok: false }) => {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.value;
};

describe("parseTime", () => {
  test("epoch seconds, with or without a fraction", () => {
    expect(ok(parseTime("1767225600", "t"))).toBe(Date.UTC(2026, 0, 1));
    expect(ok(parseTime("1767225600.25", "t"))).toBe(Date.UTC(2026, 0, 1) + 250);
  });

  test("ISO 8601 with Z or an offset, and bare dates as UTC midnight", () => {
    expect(ok(parseTime("2026-01-01T00:00:00Z", "t"))).toBe(Date.UTC(2026, 0, 1));
    expect(ok(parseTime("2026-01-01T01:30:00+01:30", "t"))).toBe(Date.UTC(2026, 0, 1));
    expect(ok(parseTime("2026-01-01T00:00:00.123Z", "t"))).toBe(Date.UTC(2026, 0, 1) + 123);
    expect(ok(parseTime("2026-01-01T00:00Z", "t"))).toBe(Date.UTC(2026, 0, 1));
    expect(ok(parseTime("2026-01-01", "t"))).toBe(Date.UTC(2026, 0, 1));
  });

  test("refuses what it cannot read unambiguously, naming the field", () => {
    for (const bad of [
      "",
      "yesterday",
      "2026-01-01T00:00:00",
      "2026-02-30",
      "2026-01-01T24:00:00Z",
      "-5",
      "1e9",
    ]) {
      const result = parseTime(bad, "start_time");
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.field).toBe("start_time");
    }
    const noZone = parseTime("2026-01-01T00:00:00", "end_time");
    expect(!noZone.ok && noZone.message).toContain("time zone");
    expect(parseTime("100", "t").ok).toBe(false); // 1970: outside the bounds
  });
});

describe("parseMetricsRange", () => {
  test("aligns bucketed ranges outward to whole buckets; raw stays as given", () => {
    const range = ok(
      parseMetricsRange(
        { start_time: String(T / 1000), end_time: String(T / 1000 + 3600), resolution: "1m" },
        T,
      ),
    );
    expect(range.start).toBe(Date.UTC(2026, 0, 10, 12, 34));
    expect(range.end).toBe(Date.UTC(2026, 0, 10, 13, 35));
    const raw = ok(
      parseMetricsRange(
        { start_time: String(T / 1000), end_time: String(T / 1000 + 60), resolution: "raw" },
        T,
      ),
    );
    expect(raw).toEqual({ start: T, end: T + 60_000, resolution: "raw" });
  });

  test("defaults: end now, start a day before, the finest resolution that fits", () => {
    expect(ok(parseMetricsRange({}, T))).toEqual({ start: T - 86_400_000, end: T, resolution: "raw" });
    const week = ok(parseMetricsRange({ start_time: "2026-01-01", end_time: "2026-01-05" }, T));
    expect(week.resolution).toBe("1m");
    const year = ok(parseMetricsRange({ start_time: "2025-01-01", end_time: "2026-01-01" }, T));
    expect(year.resolution).toBe("1d");
  });

  test("400s name the parameter: inverted range → start_time, too long → end_time, unknown resolution", () => {
    const inverted = parseMetricsRange({ start_time: "2026-01-02", end_time: "2026-01-01" }, T);
    expect(inverted).toMatchObject({ ok: false, field: "start_time" });
    const equal = parseMetricsRange({ start_time: "2026-01-02", end_time: "2026-01-02" }, T);
    expect(equal).toMatchObject({ ok: false, field: "start_time" });
    const tooLong = parseMetricsRange(
      { start_time: "2026-01-01", end_time: "2026-01-03", resolution: "raw" },
      T,
    );
    expect(tooLong).toMatchObject({ ok: false, field: "end_time" });
    expect(!tooLong.ok && tooLong.message).toContain("raw 1 day");
    const tooLongForAll = parseMetricsRange({ start_time: "2000-01-01", end_time: "2026-01-01" }, T);
    expect(tooLongForAll).toMatchObject({ ok: false, field: "end_time" });
    expect(parseMetricsRange({ resolution: "5m" }, T)).toMatchObject({ ok: false, field: "resolution" });
  });

  test("each limit is inclusive", () => {
    const day = { start_time: "2026-01-01", end_time: "2026-01-02" };
    expect(ok(parseMetricsRange({ ...day, resolution: "raw" }, T)).resolution).toBe("raw");
    expect(
      parseMetricsRange({ start_time: "2026-01-01", end_time: "2026-01-08", resolution: "1m" }, T).ok,
    ).toBe(true);
    expect(
      parseMetricsRange({ start_time: "2026-01-01", end_time: "2026-01-09", resolution: "1m" }, T).ok,
    ).toBe(false);
    expect(
      parseMetricsRange({ start_time: "2026-01-01", end_time: "2026-04-01", resolution: "1h" }, T).ok,
    ).toBe(true);
    expect(
      parseMetricsRange({ start_time: "2021-01-01", end_time: "2026-01-01", resolution: "1d" }, T).ok,
    ).toBe(true);
  });
});

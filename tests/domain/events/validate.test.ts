import { describe, expect, test } from "bun:test";
import {
  daysSinceEpoch,
  EVENT_KINDS,
  MAX_BATCH_EVENTS,
  normalisedTimestampMs,
  parseTimestamp,
  validateBatch,
  validateEvent,
  validateNdjsonBatch,
} from "../../../src/domain/events/index.ts";
import { EVENT_KINDS as WAREHOUSE_KINDS } from "../../../src/warehouse/schema.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const rules = { now: NOW };
const TIME_SPAN_FROM = Date.UTC(1970, 0, 1);
const TIME_SPAN = Date.UTC(2100, 0, 1) - TIME_SPAN_FROM;

const good = {
  id: "e-1",
  ts: "2026-11-25T11:59:00Z",
  kind: "click",
  channel: "google",
  campaign: "black-friday",
  ad: "ad-42",
  country: "us",
  city: "Austin",
  cost: "0.120",
  revenue: 0,
};

function problemOf(input: unknown) {
  const check = validateEvent(input, rules);
  if (check.ok) throw new Error("expected a problem");
  return { field: check.field, message: check.message };
}

describe("validateEvent", () => {
  test("normalises: UTC ISO time with milliseconds, upper-case country, canonical money", () => {
    const check = validateEvent(good, rules);
    expect(check).toEqual({
      ok: true,
      event: {
        id: "e-1",
        ts: "2026-11-25T11:59:00.000Z",
        kind: "click",
        channel: "google",
        campaign: "black-friday",
        ad: "ad-42",
        country: "US",
        city: "Austin",
        cost: "0.12",
        revenue: "0",
      },
    });
  });

  test("the same event sent differently normalises to the same JSON", () => {
    const a = validateEvent(good, rules);
    const b = validateEvent(
      {
        revenue: "0.000",
        cost: 0.12,
        city: "Austin",
        country: "US",
        ad: "ad-42",
        campaign: "black-friday",
        channel: "google",
        kind: "click",
        ts: "2026-11-25T12:59:00.000+01:00",
        id: "e-1",
      },
      rules,
    );
    const c = validateEvent({ ...good, ts: Date.UTC(2026, 10, 25, 11, 59) }, rules);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).toBe(JSON.stringify(a));
  });

  test("cost and revenue are optional; CSV-style text values are accepted", () => {
    const { cost: _c, revenue: _r, ...bare } = good;
    expect(validateEvent(bare, rules)).toMatchObject({ ok: true, event: { cost: "0", revenue: "0" } });
    const csv = { ...good, ts: String(Date.UTC(2026, 10, 25, 11)), cost: "", revenue: "12.5" };
    expect(validateEvent(csv, rules)).toMatchObject({
      ok: true,
      event: { ts: "2026-11-25T11:00:00.000Z", cost: "0", revenue: "12.5" },
    });
    expect(validateEvent({ ...good, id: 123456 }, rules)).toMatchObject({
      ok: true,
      event: { id: "123456" },
    });
  });

  test("each field's refusal names the field", () => {
    expect(problemOf({ ...good, kind: "purchase" })).toEqual({
      field: "kind",
      message: "must be one of impression, view, click, conversion",
    });
    expect(problemOf({ ...good, country: "USA" }).field).toBe("country");
    expect(problemOf({ ...good, channel: "" })).toEqual({ field: "channel", message: "must not be empty" });
    expect(problemOf({ ...good, ad: "x".repeat(129) }).message).toBe("must be at most 128 characters");
    expect(problemOf({ ...good, city: "Aus\ntin" }).message).toBe("must not contain control characters");
    expect(problemOf({ ...good, campaign: 7 })).toEqual({ field: "campaign", message: "must be a string" });
    expect(problemOf({ ...good, cost: -1 })).toEqual({ field: "cost", message: "must not be negative" });
    expect(problemOf({ ...good, revenue: "1e3" }).field).toBe("revenue");
    expect(problemOf({ ...good, cost: 0.1234567 }).field).toBe("cost");
    expect(problemOf({ ...good, cost: "1234567890123" }).field).toBe("cost");
    expect(problemOf({ ...good, cost: Number.NaN }).field).toBe("cost");
    expect(problemOf({ ...good, id: 1.5 }).field).toBe("id");
    const { city: _city, ...noCity } = good;
    expect(problemOf(noCity)).toEqual({ field: "city", message: "is required" });
    expect(problemOf({ ...good, revenu: 3 }).field).toBe("revenu");
    expect(problemOf("click")).toMatchObject({ field: "event" });
    expect(problemOf(null)).toMatchObject({ field: "event" });
  });

  test("unknown fields may be allowed (a CSV file with columns of its own)", () => {
    expect(validateEvent({ ...good, note: "x" }, { ...rules, allowUnknownFields: true }).ok).toBe(true);
  });

  test("times: an offset is required; far-future, ancient and out-of-range times are refused with a reason", () => {
    expect(problemOf({ ...good, ts: "2026-11-25T11:00:00" }).message).toContain("has no offset");
    expect(problemOf({ ...good, ts: "yesterday" }).message).toContain("not an ISO 8601 date-time");
    expect(problemOf({ ...good, ts: "2026-02-30T00:00:00Z" }).message).toContain("no such date");
    expect(problemOf({ ...good, ts: "2026-11-25T24:00:00Z" }).message).toContain("no such time");
    expect(problemOf({ ...good, ts: "2026-11-27T12:00:00Z" }).message).toBe(
      "is more than 1 day in the future (check the clock and the offset)",
    );
    expect(problemOf({ ...good, ts: "2025-01-01T00:00:00Z" }).message).toBe(
      "is more than 400 days old; use a bulk import for history",
    );
    expect(problemOf({ ...good, ts: Math.floor(NOW / 1000) }).message).toContain("epoch seconds?");
    expect(problemOf({ ...good, ts: "1969-12-31T23:59:59Z" }).message).toBe(
      "must be between 1970-01-01 and 2100-01-01",
    );
    expect(problemOf({ ...good, ts: "2100-01-01T00:00:00Z" }).message).toBe(
      "must be between 1970-01-01 and 2100-01-01",
    );
    const wide = { now: NOW, window: { maxFutureMs: 1e15, maxAgeMs: 1e15 } };
    expect(validateEvent({ ...good, ts: "0070-01-01T00:00:00Z" }, wide).ok).toBe(false);
    expect(validateEvent({ ...good, ts: "1970-01-01T00:00:00Z" }, wide).ok).toBe(true);
  });

  test("parseTimestamp: offsets, fractions, leap days", () => {
    expect(parseTimestamp("2026-11-25T10:15:00+01:00")).toEqual({
      ok: true,
      ms: Date.UTC(2026, 10, 25, 9, 15),
    });
    expect(parseTimestamp("2026-11-25T10:15-0530")).toEqual({ ok: true, ms: Date.UTC(2026, 10, 25, 15, 45) });
    expect(parseTimestamp("2026-11-25T10:15:00.123456789Z")).toEqual({
      ok: true,
      ms: Date.UTC(2026, 10, 25, 10, 15, 0, 123),
    });
    expect(parseTimestamp("2028-02-29T00:00:00Z").ok).toBe(true);
    expect(parseTimestamp("2100-02-29T00:00:00Z").ok).toBe(false);
    expect(parseTimestamp(true).ok).toBe(false);
  });

  test("a time already normalised is read directly, to the same instant and text as the general parser", () => {
    const wide = { now: NOW, window: { maxFutureMs: 1e15, maxAgeMs: 1e15 } };
    const normalised = [
      "2026-11-25T11:59:00.000Z",
      "2028-02-29T23:59:59.999Z",
      "1970-01-01T00:00:00.000Z",
      "2099-12-31T23:59:59.999Z",
      "1000-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.999Z",
    ];
    // Random instants across the accepted years, in their normalised text.
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      normalised.push(new Date(TIME_SPAN_FROM + (seed / 2 ** 31) * TIME_SPAN).toISOString());
    }
    for (const ts of normalised) {
      const general = parseTimestamp(ts);
      expect(general.ok).toBe(true);
      expect({ ts, ms: normalisedTimestampMs(ts) }).toEqual({ ts, ms: (general as { ms: number }).ms });
      const check = validateEvent({ ...good, ts }, wide);
      if (check.ok) expect(check.event.ts).toBe(ts);
    }
    // Anything else is left to the general parser, which normalises it or names the problem as before.
    const others = [
      "2026-11-25T11:59:00Z",
      "2026-11-25t11:59:00.000Z",
      "2026-11-25T11:59:00.000z",
      "2026-11-25 11:59:00.000Z",
      "2026-11-25T11:59:00,000Z",
      "2026-02-29T00:00:00.000Z",
      "2100-02-29T00:00:00.000Z",
      "2026-04-31T00:00:00.000Z",
      "2026-13-01T00:00:00.000Z",
      "2026-00-01T00:00:00.000Z",
      "2026-11-00T00:00:00.000Z",
      "2026-11-25T24:00:00.000Z",
      "2026-11-25T23:60:00.000Z",
      "2026-11-25T23:59:60.000Z",
      "0099-01-01T00:00:00.000Z",
      "0999-12-31T23:59:59.999Z",
      "2026-11-25T11:59:00.0a0Z",
      "2026-1a-25T11:59:00.000Z",
      "+02026-11-25T11:59:00.000Z",
      "2026-11-25T11:59:00.000+00:00",
    ];
    for (const ts of others) expect({ ts, ms: normalisedTimestampMs(ts) }).toEqual({ ts, ms: undefined });
    expect(validateEvent({ ...good, ts: "2026-11-25t11:59:00.000z" }, rules)).toEqual(
      validateEvent({ ...good, ts: "2026-11-25T11:59:00Z" }, rules),
    );
    expect(problemOf({ ...good, ts: "2026-02-29T00:00:00.000Z" }).message).toContain("no such date");
    expect(problemOf({ ...good, ts: "2026-11-25T23:59:60.000Z" }).message).toContain("no such time");
    expect(validateEvent({ ...good, ts: "0099-01-01T00:00:00.000Z" }, wide)).toEqual({
      ok: false,
      field: "ts",
      message: "must be between 1970-01-01 and 2100-01-01",
    });
  });

  test("daysSinceEpoch counts days as Date.UTC does, for every year a normalised time may have", () => {
    const wrong: string[] = [];
    for (let year = 1000; year <= 9999; year++) {
      for (let month = 1; month <= 12; month++) {
        for (const day of [1, 28, 29, 30, 31]) {
          if (daysSinceEpoch(year, month, day) * 86_400_000 !== Date.UTC(year, month - 1, day)) {
            wrong.push(`${year}-${month}-${day}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("money: canonical text is kept as sent; anything else is canonicalised or refused as before", () => {
    const money = (cost: unknown) => {
      const check = validateEvent({ ...good, cost }, rules);
      return check.ok ? check.event.cost : `${check.field}: ${check.message}`;
    };
    for (const same of ["0", "7", "0.0045", "123456789012", "999999999999.999999", "0.000001", "10.5"]) {
      expect(money(same)).toBe(same);
    }
    expect(money("00")).toBe("0");
    expect(money("0.0")).toBe("0");
    expect(money("007.50")).toBe("7.5");
    expect(money("1.500000")).toBe("1.5");
    expect(money(1.5)).toBe("1.5");
    expect(money(0)).toBe("0");
    expect(money("")).toBe("0");
    expect(money("-0")).toBe("cost: must not be negative");
    expect(money(-1)).toBe("cost: must not be negative");
    const digits = "cost: must be a decimal with at most 12 digits before the point and 6 after";
    expect(money("0.0000001")).toBe(digits);
    expect(money("1234567890123")).toBe(digits);
    expect(money(1e21)).toBe(digits);
    expect(money(1e-7)).toBe(digits);
    expect(money(".5")).toBe(digits);
    expect(money("5.")).toBe(digits);
    expect(money("1,5")).toBe(digits);
  });

  test("event kinds are the warehouse's", () => {
    expect([...EVENT_KINDS]).toEqual([...WAREHOUSE_KINDS]);
  });
});

describe("validateBatch", () => {
  const event = (i: number) => ({ ...good, id: `e-${i}` });

  test("accepts {events: [...]} and a bare array alike", () => {
    const wrapped = validateBatch({ events: [event(1), event(2)] }, rules);
    const bare = validateBatch([event(1), event(2)], rules);
    expect(wrapped.ok && wrapped.events.length).toBe(2);
    expect(bare).toEqual(wrapped);
  });

  test("a bad event refuses the whole batch, naming its index and field", () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    events[12] = { ...event(12), country: "Nowhere" };
    const parsed = validateBatch({ events }, rules);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual([
      { field: "events[12].country", message: "must be an ISO 3166-1 alpha-2 code, two letters (e.g. US)" },
    ]);
  });

  test("reports every bad event up to 20, odd keys quoted", () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ ...event(i), "bad key": 1 }));
    const parsed = validateBatch(events, rules);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(20);
    expect(parsed.errors[3]?.field).toBe('events[3]["bad key"]');
  });

  test("batch size: 1 to 1,000 events", () => {
    expect(validateBatch({ events: [] }, rules)).toEqual({
      ok: false,
      errors: [{ field: "events", message: "must hold 1 to 1000 events; got 0" }],
    });
    const many = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => event(i));
    expect(validateBatch(many, rules).ok).toBe(false);
    expect(validateBatch(many.slice(1), rules).ok).toBe(true);
  });

  test("the body's shape: only `events`, and it must be a list", () => {
    expect(validateBatch({ events: [event(1)], extra: 1 }, rules)).toMatchObject({
      ok: false,
      errors: [{ field: "extra" }],
    });
    expect(validateBatch({ event: [] }, rules)).toMatchObject({ ok: false, errors: [{ field: "event" }] });
    expect(validateBatch({}, rules)).toMatchObject({ ok: false, errors: [{ field: "events" }] });
    expect(validateBatch("x", rules)).toMatchObject({ ok: false, errors: [{ field: "events" }] });
    expect(validateBatch(null, rules)).toMatchObject({ ok: false, errors: [{ field: "events" }] });
  });

  test("NDJSON: one event per line, blank lines skipped, a broken line named by its event index and line", () => {
    const text = `${JSON.stringify(event(1))}\r\n\n${JSON.stringify(event(2))}\n`;
    const parsed = validateNdjsonBatch(text, rules);
    expect(parsed.ok && parsed.events.map((e) => e.id)).toEqual(["e-1", "e-2"]);
    const broken = validateNdjsonBatch(`${JSON.stringify(event(1))}\n\n{"id": \n`, rules);
    expect(broken).toMatchObject({ ok: false, errors: [{ field: "events[1]" }] });
    if (!broken.ok) expect(broken.errors[0]?.message).toStartWith("line 3 is not valid JSON");
    const bad = validateNdjsonBatch(
      `${JSON.stringify(event(1))}\n${JSON.stringify({ ...event(2), kind: 1 })}`,
      rules,
    );
    expect(bad).toMatchObject({ ok: false, errors: [{ field: "events[1].kind" }] });
    expect(validateNdjsonBatch("\n\n", rules)).toMatchObject({ ok: false, errors: [{ field: "events" }] });
    const tooMany = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => JSON.stringify(event(i))).join(
      "\n",
    );
    expect(validateNdjsonBatch(tooMany, rules)).toMatchObject({ ok: false, errors: [{ field: "events" }] });
  });
});

// Date ranges, absolute or relative, resolved to half-open intervals of instants [from, to).
//
// Absolute: `[from, to]`, each `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]]` with an optional `Z` / `±HH:MM`.
// Both ends are included: a date means its whole local day, a date-time without an offset is local time in
// the query's time zone, and a date-time `to` includes that millisecond (Cube's convention).
//
// Relative (in the query's time zone, against `now`): `today`, `yesterday`, `this week|month|year`, and
// `last N minutes|hours|days|weeks|months|years`: the N most recent whole units, the current one included
// ("last 7 days" on a Wednesday is the six days before it plus Wednesday until midnight).
import {
  addToWallTime,
  type CalendarUnit,
  instantOfWallTime,
  truncateWallTime,
  utcAsWallTime,
  type WallTime,
  wallTimeAt,
} from "./timezone.ts";

/** Half-open: `from` included, `to` excluded; epoch milliseconds. */
export interface InstantRange {
  from: number;
  to: number;
}

/** What can be queried: events outside these instants are refused at ingest. */
export const TIME_BOUNDS: InstantRange = {
  from: Date.UTC(1970, 0, 1),
  to: Date.UTC(2100, 0, 1),
};

export type RangeResult = { ok: true; range: InstantRange } | { ok: false; field: string; message: string };

const ABSOLUTE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const RELATIVE = /^last (\d{1,6}) (minute|hour|day|week|month|year)s?$/;
/** Largest N per unit in `last N units`: about 50 years, so a relative range stays within TIME_BOUNDS. */
const MAX_RELATIVE: Record<CalendarUnit, number> = {
  minute: 1_000_000,
  hour: 400_000,
  day: 18_000,
  week: 2_600,
  month: 600,
  year: 50,
};

export const RELATIVE_RANGE_HELP =
  'use [from, to] or one of "today", "yesterday", "this week|month|year", "last N minutes|hours|days|weeks|months|years"';

interface ParsedInstant {
  /** The first millisecond the text names. */
  start: number;
  /** The first millisecond after it (a whole day for a date, one millisecond for a date-time). */
  end: number;
}

function parseAbsolute(text: string, zone: string): ParsedInstant | string {
  const match = ABSOLUTE.exec(text);
  if (!match) return `${JSON.stringify(text)} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS)`;
  const [, y, mo, d, h, mi, s, frac, offset] = match;
  const wall: WallTime = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h ?? 0),
    minute: Number(mi ?? 0),
    second: Number(s ?? 0),
    millisecond: Number((frac ?? "").padEnd(3, "0").slice(0, 3)),
  };
  const roundTrip = utcAsWallTime(
    Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second),
  );
  if (
    roundTrip.year !== wall.year ||
    roundTrip.month !== wall.month ||
    roundTrip.day !== wall.day ||
    roundTrip.hour !== wall.hour ||
    roundTrip.minute !== wall.minute ||
    roundTrip.second !== wall.second
  ) {
    return `${JSON.stringify(text)} is not a valid calendar date and time`;
  }
  if (h === undefined) {
    const start = instantOfWallTime(wall, zone);
    return { start, end: instantOfWallTime(addToWallTime(wall, "day", 1), zone) };
  }
  if (offset === undefined) {
    const start = instantOfWallTime(wall, zone);
    return { start, end: start + 1 };
  }
  const start =
    Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) + wall.millisecond;
  const offsetMs = offsetMillis(offset);
  if (offsetMs === null) return `${JSON.stringify(text)} has an invalid UTC offset`;
  return { start: start - offsetMs, end: start - offsetMs + 1 };
}

function offsetMillis(offset: string): number | null {
  if (offset.toUpperCase() === "Z") return 0;
  const digits = offset.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return null;
  return (offset.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/** Units in instants, for minutes and hours: a local hour or minute is a fixed length of time. */
const FIXED_UNIT_MS: Partial<Record<CalendarUnit, number>> = { minute: 60_000, hour: 3_600_000 };

/** The N most recent whole local `unit`s, the one containing `now` included. */
function lastUnits(unit: CalendarUnit, count: number, now: number, zone: string): InstantRange {
  const wall = wallTimeAt(now, zone);
  const unitMs = FIXED_UNIT_MS[unit];
  if (unitMs !== undefined) {
    // Truncate in instants: the local minute / hour starts this long ago, whatever the offset does later.
    const intoUnit =
      (unit === "hour" ? wall.minute * 60_000 : 0) + wall.second * 1000 + (((now % 1000) + 1000) % 1000);
    const start = now - intoUnit;
    return { from: start - (count - 1) * unitMs, to: start + unitMs };
  }
  const current = truncateWallTime(wall, unit);
  return {
    from: instantOfWallTime(addToWallTime(current, unit, 1 - count), zone),
    to: instantOfWallTime(addToWallTime(current, unit, 1), zone),
  };
}

function resolveRelative(text: string, now: number, zone: string): InstantRange | string {
  const phrase = text.trim().toLowerCase().replace(/\s+/g, " ");
  if (phrase === "today") return lastUnits("day", 1, now, zone);
  if (phrase === "yesterday") {
    const today = lastUnits("day", 2, now, zone);
    return { from: today.from, to: lastUnits("day", 1, now, zone).from };
  }
  const thisUnit = /^this (week|month|year)$/.exec(phrase);
  if (thisUnit) return lastUnits(thisUnit[1] as CalendarUnit, 1, now, zone);
  const last = RELATIVE.exec(phrase);
  if (last) {
    const unit = last[2] as CalendarUnit;
    const count = Number(last[1]);
    if (count < 1 || count > MAX_RELATIVE[unit]) {
      return `"last N ${unit}s" takes N from 1 to ${MAX_RELATIVE[unit]}`;
    }
    return lastUnits(unit, count, now, zone);
  }
  return `unknown relative range ${JSON.stringify(text)}; ${RELATIVE_RANGE_HELP}`;
}

function withinBounds(range: InstantRange): boolean {
  return range.from >= TIME_BOUNDS.from && range.to <= TIME_BOUNDS.to && range.from < range.to;
}

const BOUNDS_MESSAGE = "must fall between 1970-01-01 and 2100-01-01 (UTC)";

/**
 * Resolves a date range in `zone` (a canonical IANA name) against `now`. Fields in errors are relative to
 * `dateRange` ("" for the whole, "[0]" / "[1]" for an end).
 */
export function resolveDateRange(
  range: string | readonly [string, string],
  zone: string,
  now: number,
): RangeResult {
  if (typeof range === "string") {
    const resolved = resolveRelative(range, now, zone);
    if (typeof resolved === "string") return { ok: false, field: "", message: resolved };
    if (!withinBounds(resolved)) return { ok: false, field: "", message: BOUNDS_MESSAGE };
    return { ok: true, range: resolved };
  }
  const from = parseAbsolute(range[0], zone);
  if (typeof from === "string") return { ok: false, field: "[0]", message: from };
  const to = parseAbsolute(range[1], zone);
  if (typeof to === "string") return { ok: false, field: "[1]", message: to };
  if (to.end <= from.start) return { ok: false, field: "[1]", message: "must not be before dateRange[0]" };
  const resolved = { from: from.start, to: to.end };
  if (resolved.from < TIME_BOUNDS.from) return { ok: false, field: "[0]", message: BOUNDS_MESSAGE };
  if (resolved.to > TIME_BOUNDS.to) return { ok: false, field: "[1]", message: BOUNDS_MESSAGE };
  return { ok: true, range: resolved };
}

/** The absolute `[from, to]` (both included, UTC ISO instants) that names a resolved range. */
export function absoluteDateRange(range: InstantRange): [string, string] {
  return [new Date(range.from).toISOString(), new Date(range.to - 1).toISOString()];
}

// Wall-clock arithmetic in IANA time zones with nothing but Intl, so it runs on the edge as well as in actors.

/** Calendar fields of a local wall-clock time. `month` is 1-12. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

// An IANA name starts with a letter; this keeps out offset strings ("+05:30"), which Intl accepts but
// Postgres reads with the opposite sign.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 512;

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    // Zone names are validated before they get here, so the map only grows with real zones; the cap is a
    // backstop, not an eviction policy.
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * The canonical spelling of an IANA time zone, or null when the name is not one. Zone names are
 * case-insensitive (to Intl and to Postgres alike), so the canonical spelling is lower case:
 * `"Europe/Paris"` → `"europe/paris"`. Intl's own `resolvedOptions().timeZone` is no use here: runtimes
 * disagree on it (V8 turns Asia/Kolkata into Asia/Calcutta, JavaScriptCore keeps it), and the hash must not
 * depend on where it was computed.
 */
export function canonicalTimezone(name: string): string | null {
  if (!ZONE_NAME.test(name)) return null;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return name.toLowerCase();
  } catch {
    return null;
  }
}

/** The local wall-clock time of an instant in `zone`. */
export function wallTimeAt(instantMs: number, zone: string): WallTime {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? 1970,
    month: fields.month ?? 1,
    day: fields.day ?? 1,
    hour: fields.hour ?? 0,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
    millisecond: ((instantMs % 1000) + 1000) % 1000,
  };
}

/** A wall time read as if it were UTC: handy for calendar arithmetic (Date.UTC normalises overflow). */
export function wallTimeAsUtc(wall: WallTime): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);
}

/** The inverse of `wallTimeAsUtc`. */
export function utcAsWallTime(ms: number): WallTime {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

/** How far `zone`'s wall clock is ahead of UTC at an instant, in milliseconds (whole seconds). */
export function offsetAt(instantMs: number, zone: string): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return wallTimeAsUtc({ ...wallTimeAt(whole, zone), millisecond: 0 }) - whole;
}

/**
 * The instant a local wall time names in `zone`. Like Temporal's "compatible" choice: a time skipped by a
 * forward jump moves forward by the jump (02:30 → 03:30), a repeated time takes its earlier occurrence.
 */
export function instantOfWallTime(wall: WallTime, zone: string): number {
  const asUtc = wallTimeAsUtc(wall);
  const before = offsetAt(asUtc - DAY_MS, zone);
  const after = offsetAt(asUtc + DAY_MS, zone);
  const candidates = [asUtc - before, asUtc - after].filter((t) => t + offsetAt(t, zone) === asUtc);
  if (candidates.length > 0) return Math.min(...candidates);
  return asUtc - before;
}

/** Units a wall time can be truncated to; weeks start on Monday (as Postgres `date_trunc('week')`). */
export type CalendarUnit = "minute" | "hour" | "day" | "week" | "month" | "year";

/** The start of the unit containing a wall time, as a wall time. */
export function truncateWallTime(wall: WallTime, unit: CalendarUnit): WallTime {
  const start = { ...wall, second: 0, millisecond: 0 };
  if (unit === "minute") return start;
  start.minute = 0;
  if (unit === "hour") return start;
  start.hour = 0;
  if (unit === "day") return start;
  if (unit === "week") {
    const weekday = new Date(Date.UTC(start.year, start.month - 1, start.day)).getUTCDay();
    return utcAsWallTime(wallTimeAsUtc(start) - ((weekday + 6) % 7) * DAY_MS);
  }
  start.day = 1;
  if (unit === "month") return start;
  start.month = 1;
  return start;
}

/** A wall time moved by whole units along the calendar (months keep day 1, which truncated times have). */
export function addToWallTime(wall: WallTime, unit: CalendarUnit, amount: number): WallTime {
  switch (unit) {
    case "minute":
      return utcAsWallTime(wallTimeAsUtc(wall) + amount * MINUTE_MS);
    case "hour":
      return utcAsWallTime(wallTimeAsUtc(wall) + amount * HOUR_MS);
    case "day":
      return utcAsWallTime(wallTimeAsUtc(wall) + amount * DAY_MS);
    case "week":
      return utcAsWallTime(wallTimeAsUtc(wall) + amount * 7 * DAY_MS);
    case "month":
      return utcAsWallTime(Date.UTC(wall.year, wall.month - 1 + amount, wall.day, wall.hour, wall.minute));
    case "year":
      return utcAsWallTime(Date.UTC(wall.year + amount, wall.month - 1, wall.day, wall.hour, wall.minute));
  }
}

/** `YYYY-MM-DDTHH:MM:SS.sss` of a wall time: how bucket starts are shown (no offset: it is local time). */
export function formatWallTime(wall: WallTime): string {
  return new Date(wallTimeAsUtc(wall)).toISOString().slice(0, 23);
}

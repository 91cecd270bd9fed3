// Event times: ISO 8601 date-times with an explicit offset, or epoch milliseconds. A time without an offset is
// refused: whose local time it is cannot be guessed, and a wrong guess silently moves events by hours.

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const DATE_TIME_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$/;
const EPOCH_MS_TEXT = /^\d{1,15}$/;

export type TimestampParse = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Epoch milliseconds of an event time: a number (epoch ms), a string of digits (epoch ms, as CSV files carry
 * it), or an ISO 8601 date-time with `Z` or `±HH:MM`. Fractions finer than a millisecond are truncated.
 *
 * @example parseTimestamp("2026-11-25T10:15:00+01:00") // {ok: true, ms: Date.UTC(2026, 10, 25, 9, 15)}
 */
export function parseTimestamp(value: unknown): TimestampParse {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) return { ok: false, message: "epoch milliseconds must be an integer" };
    return { ok: true, ms: value };
  }
  if (typeof value !== "string") {
    return { ok: false, message: "must be an ISO 8601 date-time with an offset, or epoch milliseconds" };
  }
  if (EPOCH_MS_TEXT.test(value)) return { ok: true, ms: Number(value) };
  const match = ISO_DATE_TIME.exec(value);
  if (!match) {
    if (DATE_TIME_WITHOUT_OFFSET.test(value)) {
      return { ok: false, message: `"${value}" has no offset: add Z (UTC) or ±HH:MM` };
    }
    return {
      ok: false,
      message: `"${clip(value)}" is not an ISO 8601 date-time (e.g. 2026-11-25T10:15:00Z) or epoch milliseconds`,
    };
  }
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offH, offM] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, message: `"${value}": no such date` };
  }
  if (hour > 23 || minute > 59 || second > 59)
    return { ok: false, message: `"${value}": no such time of day` };
  const millis = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  let offsetMinutes = 0;
  if (!zulu) {
    const [oh, om] = [Number(offH), Number(offM)];
    if (oh > 23 || om > 59) return { ok: false, message: `"${value}": offset out of range` };
    offsetMinutes = (sign === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return { ok: true, ms: utcMs(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000 };
}

/**
 * Epoch milliseconds of a time already in the normalised form (`2026-11-25T10:15:00.000Z`, years 1000–9999),
 * read by character codes; undefined for anything else, including impossible dates, which `parseTimestamp`
 * then reads or refuses. Such a time is its own normalised text. Most senders send this form, and a batch
 * holds up to 1,000 of them.
 */
export function normalisedTimestampMs(value: string): number | undefined {
  // "-" at 4 and 7, "T" at 10, ":" at 13 and 16, "." at 19, "Z" at 23.
  if (
    value.length !== 24 ||
    value.charCodeAt(4) !== 45 ||
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 ||
    value.charCodeAt(13) !== 58 ||
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 ||
    value.charCodeAt(23) !== 90
  ) {
    return undefined;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  const millis = digits(value, 20, 3);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || millis < 0) return undefined;
  return daysSinceEpoch(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (what `Date.UTC` counts), in integer
 * arithmetic: a native `Date.UTC` call per event was the largest part of reading a normalised time.
 */
export function daysSinceEpoch(year: number, month: number, day: number): number {
  // Years start in March, so the leap day ends its year; 400-year eras repeat exactly (146,097 days).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The decimal number in `length` digits from `start`; -1 when any of them is not a digit. */
function digits(text: string, start: number, length: number): number {
  let n = 0;
  for (let i = start; i < start + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `Date.UTC` without its two-digit-year rule (it reads year 70 as 1970). */
function utcMs(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  ms: number,
): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(h, m, s, ms);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

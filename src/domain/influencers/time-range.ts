// `GET /v1/influencers/:id/metrics` parameters: start_time / end_time (epoch seconds or ISO 8601) and the
// resolution, checked against a per-resolution range limit and aligned to whole buckets.
import { RESOLUTIONS, type Resolution } from "./messages.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Width of one bucket in ms (raw has no buckets: each point stands alone). */
export const BUCKET_MS: Record<Exclude<Resolution, "raw">, number> = { "1m": MINUTE, "1h": HOUR, "1d": DAY };

/**
 * The longest range each resolution answers: about 10 k points or buckets at most (raw at a 1 s interval:
 * 86,400), so one answer stays a few MB and one warehouse scan stays short.
 */
export const RANGE_LIMIT_MS: Record<Resolution, number> = {
  raw: DAY,
  "1m": 7 * DAY,
  "1h": 90 * DAY,
  "1d": 1830 * DAY, // five years, leap days included
};

/** When end_time is left out it is now; when start_time is left out it is this long before end_time. */
export const DEFAULT_RANGE_MS = DAY;

/** Times outside these bounds are refused. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);

export interface MetricsRange {
  /** Aligned down to the resolution's bucket; epoch ms, included. */
  start: number;
  /** Aligned up to the resolution's bucket; epoch ms, excluded. */
  end: number;
  resolution: Resolution;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

const EPOCH_SECONDS = /^\d{1,12}(?:\.\d{1,6})?$/;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * One time parameter: epoch seconds (`1767225600`, fractions allowed) or ISO 8601 with a zone
 * (`2026-01-01T00:00:00Z`, `2026-01-01T01:00:00+01:00`); a bare date is UTC midnight.
 */
export function parseTime(raw: string, field: string): ParseResult<number> {
  const text = raw.trim();
  let ms: number;
  if (EPOCH_SECONDS.test(text)) {
    ms = Math.round(Number(text) * 1000);
  } else {
    const match = ISO_8601.exec(text);
    if (!match) {
      return fail(
        field,
        `${JSON.stringify(raw)} is neither epoch seconds nor an ISO 8601 time such as 2026-01-01T00:00:00Z`,
      );
    }
    const [, y, mo, d, h, mi, s, frac, zone] = match;
    if (h !== undefined && zone === undefined) {
      return fail(field, `${JSON.stringify(raw)} has no time zone: add Z or an offset such as +02:00`);
    }
    const fields = [
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h ?? 0),
      Number(mi ?? 0),
      Number(s ?? 0),
    ] as const;
    const utc = Date.UTC(...fields) + Math.floor(Number(`0.${frac ?? 0}`) * 1000);
    const check = new Date(Date.UTC(...fields));
    // Date.UTC rolls 2026-02-30 over into March; refuse instead.
    if (
      check.getUTCMonth() !== fields[1] ||
      check.getUTCDate() !== fields[2] ||
      fields[3] > 23 ||
      fields[4] > 59 ||
      fields[5] > 59
    ) {
      return fail(field, `${JSON.stringify(raw)} is not a valid date-time`);
    }
    ms = utc - offsetMs(zone);
  }
  if (!(ms >= EARLIEST && ms < LATEST)) return fail(field, "must be between 2000-01-01 and 2100-01-01");
  return { ok: true, value: ms };
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const [hours, minutes] = zone.slice(1).split(":").map(Number) as [number, number];
  return sign * (hours * HOUR + minutes * MINUTE);
}

export interface RangeParams {
  start_time?: string;
  end_time?: string;
  resolution?: string;
}

/**
 * Validates and aligns a metrics range. Without `resolution`, the finest one whose limit covers the range is
 * chosen. Errors name the parameter at fault: an inverted range blames start_time, one too long blames
 * end_time.
 *
 * @example parseMetricsRange({ start_time: "2026-01-01", end_time: "2026-01-02", resolution: "1h" }, Date.now())
 */
export function parseMetricsRange(params: RangeParams, now: number): ParseResult<MetricsRange> {
  let resolution: Resolution | undefined;
  if (params.resolution !== undefined && params.resolution !== "") {
    if (!(RESOLUTIONS as readonly string[]).includes(params.resolution)) {
      return fail("resolution", `must be one of ${RESOLUTIONS.join(", ")}`);
    }
    resolution = params.resolution as Resolution;
  }
  let end = now;
  if (params.end_time !== undefined) {
    const parsed = parseTime(params.end_time, "end_time");
    if (!parsed.ok) return parsed;
    end = parsed.value;
  }
  let start = end - DEFAULT_RANGE_MS;
  if (params.start_time !== undefined) {
    const parsed = parseTime(params.start_time, "start_time");
    if (!parsed.ok) return parsed;
    start = parsed.value;
  }
  if (start >= end) return fail("start_time", "must be before end_time");
  const span = end - start;
  resolution ??= RESOLUTIONS.find((r) => RANGE_LIMIT_MS[r] >= span);
  if (resolution === undefined || span > RANGE_LIMIT_MS[resolution]) {
    const limits = RESOLUTIONS.map((r) => `${r} ${describeSpan(RANGE_LIMIT_MS[r])}`).join(", ");
    const what = resolution === undefined ? "any resolution" : `resolution ${resolution}`;
    return fail("end_time", `the range (${describeSpan(span)}) is longer than ${what} allows (${limits})`);
  }
  if (resolution === "raw") return { ok: true, value: { start, end, resolution } };
  const width = BUCKET_MS[resolution];
  return {
    ok: true,
    value: { start: Math.floor(start / width) * width, end: Math.ceil(end / width) * width, resolution },
  };
}

function describeSpan(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} day${ms === DAY ? "" : "s"}`;
  if (ms >= DAY) return `${(ms / DAY).toFixed(1)} days`;
  if (ms >= HOUR) return `${(ms / HOUR).toFixed(1)} hours`;
  return `${Math.round(ms / 1000)} s`;
}

function fail(field: string, message: string): { ok: false; field: string; message: string } {
  return { ok: false, field, message };
}

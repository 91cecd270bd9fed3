// Whether a time zone's local buckets line up with UTC rollup buckets over a range of instants.
//
// A UTC hour bucket falls inside one local day (or hour, week, month) exactly when, throughout the range,
// the zone's UTC offset is a whole number of hours and every offset change happens on a whole UTC hour; the
// same for minutes, and for days (offset 0, no changes). Offsets come from Intl, sampled daily per UTC year
// (cached) with each change located to the second by bisection. Assumes no zone changes its offset twice
// within one day, which the tz database has not needed since 1970.
import type { InstantRange } from "./date-range.ts";
import { DAY_MS, offsetAt } from "./timezone.ts";

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

interface OffsetChange {
  at: number;
  offset: number;
}

interface YearTimeline {
  /** Offset in force at the start of the year. */
  initial: number;
  changes: OffsetChange[];
}

const timelines = new Map<string, YearTimeline>();
const MAX_TIMELINES = 4096;

/** The first whole second in (lo, hi] with `hi`'s offset, given that lo and hi differ. */
function locateChange(lo: number, hi: number, zone: string): number {
  const loOffset = offsetAt(lo, zone);
  while (hi - lo > 1000) {
    let mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid <= lo) mid = lo + 1000;
    if (offsetAt(mid, zone) === loOffset) lo = mid;
    else hi = mid;
  }
  return hi;
}

function yearTimeline(zone: string, year: number): YearTimeline {
  const key = `${zone}|${year}`;
  const cached = timelines.get(key);
  if (cached) return cached;
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  const initial = offsetAt(start, zone);
  const changes: OffsetChange[] = [];
  let previous = start;
  let previousOffset = initial;
  for (let sample = start + DAY_MS; ; sample += DAY_MS) {
    const at = Math.min(sample, end);
    const offset = offsetAt(at, zone);
    if (offset !== previousOffset) {
      const changeAt = locateChange(previous, at, zone);
      changes.push({ at: changeAt, offset: offsetAt(changeAt, zone) });
    }
    previous = at;
    previousOffset = offset;
    if (at === end) break;
  }
  if (timelines.size >= MAX_TIMELINES) timelines.clear();
  const timeline = { initial, changes };
  timelines.set(key, timeline);
  return timeline;
}

/**
 * The largest of one day, one hour and one minute (ms) that every offset and offset change of `zone` within
 * `range` is a multiple of; 0 when none is.
 */
export function zoneAlignmentMs(zone: string, range: InstantRange): number {
  const offsets = new Set<number>([offsetAt(range.from, zone)]);
  const changes: number[] = [];
  const firstYear = new Date(range.from).getUTCFullYear();
  const lastYear = new Date(range.to - 1).getUTCFullYear();
  for (let year = firstYear; year <= lastYear; year++) {
    for (const change of yearTimeline(zone, year).changes) {
      if (change.at > range.from && change.at < range.to) {
        changes.push(change.at);
        offsets.add(change.offset);
      }
    }
  }
  for (const grain of [DAY_MS, HOUR_MS, MINUTE_MS]) {
    const aligned = (n: number) => n % grain === 0;
    if ([...offsets].every(aligned) && changes.every(aligned)) return grain;
  }
  return 0;
}

// Which table answers a query: the coarsest rollup that gives exactly the raw answer, and of those the narrowest
// that holds every dimension the query names; else raw events.
//
// A rollup of grain G (UTC buckets of a minute, an hour or a day) answers exactly when each of its buckets
// lies wholly inside one answer row and wholly inside or outside the date range:
// - the granularity is at least G (a day rollup cannot split days into hours);
// - the date range starts and ends on G boundaries in UTC ("today" in New York starts at 05:00Z: hours, not days);
// - with a granularity, the zone's local buckets are G-aligned throughout the range (zone-alignment.ts).
// Without a granularity the zone does not matter: only the range edges do.
// A rollup that keeps only some dimensions (ad_rollup_day_campaign: channel, campaign, country) answers only
// when every dimension selected or filtered on is among them; it has a few rows where the full one has many,
// so it is tried first. Measures never rule a rollup out: every rollup holds every base measure.
// The minute rollup is complete only for recent events (`MINUTE_ROLLUP_DAYS`): it answers only ranges that start
// inside that window. Older minute buckets would hold about one row per event (a copy of the raw table), so a
// history import skips them and older questions at minute precision read raw events.
// The tables and their dimensions mirror the ingest fold (src/warehouse/rollups.ts `ROLLUPS`).

import type { ResolvedQuery } from "./canonical.ts";
import { DIMENSIONS, type Dimension, type Granularity, isDimension } from "./catalogue.ts";
import { TIME_BOUNDS } from "./date-range.ts";
import type { FilterNode } from "./schema.ts";
import { DAY_MS } from "./timezone.ts";
import { zoneAlignmentMs } from "./zone-alignment.ts";

/**
 * Days back from the wall clock that the minute rollup answers for. Ingestion folds one day more (events at
 * most `MINUTE_ROLLUP_DAYS + 1` days old when stored), so clocks a little apart never leave a gap.
 */
export const MINUTE_ROLLUP_DAYS = 7;

export type Source = "raw" | "rollup_minute" | "rollup_hour" | "rollup_day" | "rollup_day_campaign";

/** The warehouse table behind each source. */
export const SOURCE_TABLES: Record<Source, string> = {
  raw: "ad_events",
  rollup_minute: "ad_rollup_minute",
  rollup_hour: "ad_rollup_hour",
  rollup_day: "ad_rollup_day",
  rollup_day_campaign: "ad_rollup_day_campaign",
};

/** The dimensions each source's table has a column for. */
export const SOURCE_DIMENSIONS: Record<Source, readonly Dimension[]> = {
  raw: DIMENSIONS,
  rollup_minute: DIMENSIONS,
  rollup_hour: DIMENSIONS,
  rollup_day: DIMENSIONS,
  rollup_day_campaign: ["channel", "campaign", "country"],
};

const GRANULARITY_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 28 * DAY_MS,
};

/** Coarsest grain first, then narrowest: the first that fits wins. */
const ROLLUPS: { source: Source; grainMs: number; recentDays?: number }[] = [
  { source: "rollup_day_campaign", grainMs: DAY_MS },
  { source: "rollup_day", grainMs: DAY_MS },
  { source: "rollup_hour", grainMs: 3_600_000 },
  { source: "rollup_minute", grainMs: 60_000, recentDays: MINUTE_ROLLUP_DAYS },
];

/** Every dimension a filter tree names, at any depth. */
function filterDimensions(node: FilterNode, into: Set<string>): void {
  if ("member" in node) {
    if (isDimension(node.member)) into.add(node.member);
    return;
  }
  for (const child of "and" in node ? node.and : node.or) filterDimensions(child, into);
}

/** The dimensions a query selects or filters on: the columns its source must have. */
export function dimensionsUsed(query: Pick<ResolvedQuery, "dimensions" | "filters">): Set<string> {
  const used = new Set<string>(query.dimensions);
  for (const filter of query.filters) filterDimensions(filter, used);
  return used;
}

/** `clock` is the wall-clock time (epoch ms) the minute rollup's window is measured from. */
export function chooseSource(
  query: Pick<ResolvedQuery, "granularity" | "range" | "timezone" | "dimensions" | "filters">,
  clock: number,
): Source {
  const { granularity, range, timezone } = query;
  const used = dimensionsUsed(query);
  let zoneAlignment: number | undefined;
  for (const { source, grainMs, recentDays } of ROLLUPS) {
    if (recentDays !== undefined && (!range || range.from < clock - recentDays * DAY_MS)) continue;
    const kept = SOURCE_DIMENSIONS[source];
    if ([...used].some((dimension) => !kept.includes(dimension as Dimension))) continue;
    if (granularity && GRANULARITY_MS[granularity] < grainMs) continue;
    if (range && (range.from % grainMs !== 0 || range.to % grainMs !== 0)) continue;
    if (granularity) {
      zoneAlignment ??= zoneAlignmentMs(timezone, range ?? TIME_BOUNDS);
      if (zoneAlignment < grainMs) continue;
    }
    return source;
  }
  return "raw";
}

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
// The tables and their dimensions mirror the ingest fold (src/warehouse/rollups.ts `ROLLUPS`).

import type { ResolvedQuery } from "./canonical.ts";
import { DIMENSIONS, type Dimension, type Granularity, isDimension } from "./catalogue.ts";
import { TIME_BOUNDS } from "./date-range.ts";
import type { FilterNode } from "./schema.ts";
import { DAY_MS } from "./timezone.ts";
import { zoneAlignmentMs } from "./zone-alignment.ts";

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
const ROLLUPS: { source: Source; grainMs: number }[] = [
  { source: "rollup_day_campaign", grainMs: DAY_MS },
  { source: "rollup_day", grainMs: DAY_MS },
  { source: "rollup_hour", grainMs: 3_600_000 },
  { source: "rollup_minute", grainMs: 60_000 },
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

export function chooseSource(
  query: Pick<ResolvedQuery, "granularity" | "range" | "timezone" | "dimensions" | "filters">,
): Source {
  const { granularity, range, timezone } = query;
  const used = dimensionsUsed(query);
  let zoneAlignment: number | undefined;
  for (const { source, grainMs } of ROLLUPS) {
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

// Which table answers a query: the coarsest rollup that gives exactly the raw answer, else raw events.
//
// A rollup of grain G (UTC buckets of a minute, an hour or a day) answers exactly when each of its buckets
// lies wholly inside one answer row and wholly inside or outside the date range:
// - the granularity is at least G (a day rollup cannot split days into hours);
// - the date range starts and ends on G boundaries in UTC ("today" in New York starts at 05:00Z: hours, not days);
// - with a granularity, the zone's local buckets are G-aligned throughout the range (zone-alignment.ts).
// Without a granularity the zone does not matter: only the range edges do. Every rollup holds every dimension,
// so dimensions and filters never rule one out.

import type { ResolvedQuery } from "./canonical.ts";
import type { Granularity } from "./catalogue.ts";
import { TIME_BOUNDS } from "./date-range.ts";
import { DAY_MS } from "./timezone.ts";
import { zoneAlignmentMs } from "./zone-alignment.ts";

export type Source = "raw" | "rollup_minute" | "rollup_hour" | "rollup_day";

/** The warehouse table behind each source. */
export const SOURCE_TABLES: Record<Source, string> = {
  raw: "ad_events",
  rollup_minute: "ad_rollup_minute",
  rollup_hour: "ad_rollup_hour",
  rollup_day: "ad_rollup_day",
};

const GRANULARITY_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 28 * DAY_MS,
};

/** Coarsest first: the first that fits wins. */
const ROLLUPS: { source: Source; grainMs: number }[] = [
  { source: "rollup_day", grainMs: DAY_MS },
  { source: "rollup_hour", grainMs: 3_600_000 },
  { source: "rollup_minute", grainMs: 60_000 },
];

export function chooseSource(query: Pick<ResolvedQuery, "granularity" | "range" | "timezone">): Source {
  const { granularity, range, timezone } = query;
  let zoneAlignment: number | undefined;
  for (const { source, grainMs } of ROLLUPS) {
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

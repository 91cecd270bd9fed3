// Catalogue members as SQL expressions over the fact table `f` of a source. The only place member names
// turn into SQL, and every string here is a constant.
//
// The same numbers from raw events and from rollups:
// - counts: raw counts events of the kind (`count(*) FILTER (WHERE f.kind = 'click')`); rollups sum the
//   per-bucket counts the ingest actor folded in (src/warehouse/rollups.ts), cast back to bigint.
// - spend / revenue: the sum of `cost` / `revenue` over events of every kind, exact numeric; 0 over no rows.
// - ratios: double precision, computed from the two aggregated base measures, null when the denominator is 0
//   (a ratio over nothing is unknown, not 0 and not infinite).
import {
  type BaseMeasure,
  COUNTED_KIND,
  DERIVED_MEASURE_INFO,
  type Dimension,
  type Granularity,
  isDerivedMeasure,
  type Measure,
} from "./catalogue.ts";
import type { Source } from "./source.ts";

const DIMENSION_COLUMNS: Record<Dimension, string> = {
  channel: "f.channel",
  campaign: "f.campaign",
  ad: "f.ad",
  country: "f.country",
  city: "f.city",
};

export function dimensionSql(dimension: Dimension): string {
  return DIMENSION_COLUMNS[dimension];
}

/** The instant column: the event time in raw events, the UTC bucket start in rollups. */
export function timeColumnSql(source: Source): string {
  return source === "raw" ? "f.ts" : "f.bucket";
}

function baseMeasureSql(measure: BaseMeasure, source: Source): string {
  if (measure === "spend") return source === "raw" ? "coalesce(sum(f.cost), 0)" : "coalesce(sum(f.spend), 0)";
  if (measure === "revenue") return "coalesce(sum(f.revenue), 0)";
  if (source === "raw") return `count(*) FILTER (WHERE f.kind = '${COUNTED_KIND[measure]}')`;
  return `coalesce(sum(f.${measure}), 0)::bigint`;
}

/** An aggregate expression for a measure (usable in SELECT, HAVING and ORDER BY). */
export function measureSql(measure: Measure, source: Source): string {
  if (!isDerivedMeasure(measure)) return baseMeasureSql(measure, source);
  const { numerator, denominator } = DERIVED_MEASURE_INFO[measure];
  const over = baseMeasureSql(numerator, source);
  const under = baseMeasureSql(denominator, source);
  return `(${over})::float8 / NULLIF((${under})::float8, 0)`;
}

const TRUNC_UNIT: Record<Granularity, string> = {
  minute: "minute",
  hour: "hour",
  day: "day",
  week: "week",
  month: "month",
};

/**
 * The local bucket start as a `timestamp` (wall time in the zone bound at `zoneParam`), for GROUP BY.
 * Weeks start on Monday.
 */
export function bucketSql(granularity: Granularity, source: Source, zoneParam: string): string {
  return `date_trunc('${TRUNC_UNIT[granularity]}', ${timeColumnSql(source)} AT TIME ZONE ${zoneParam})`;
}

/** How a bucket is shown: `YYYY-MM-DDTHH:MM:SS.sss`, local wall time without an offset. */
export function bucketLabelSql(bucket: string): string {
  return `to_char(${bucket}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;
}

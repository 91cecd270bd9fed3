// The members a semantic query may name. This table is the only source of member names: the compiler maps
// each name to SQL through it, so nothing a caller types ever reaches SQL text. `GET /v1/meta` serves it.

/** Base measures are stored (raw events are counted or summed; rollups hold them per bucket). */
export const BASE_MEASURES = ["impressions", "views", "clicks", "conversions", "spend", "revenue"] as const;
/** Derived measures are ratios of two base measures, computed after aggregation. */
export const DERIVED_MEASURES = ["ctr", "cpc", "cpa", "roas", "conversion_rate"] as const;
export const MEASURES = [...BASE_MEASURES, ...DERIVED_MEASURES] as const;
export const DIMENSIONS = ["channel", "campaign", "ad", "country", "city"] as const;
/** The one time dimension: the event timestamp (the bucket start in rollups). */
export const TIME_DIMENSION = "ts";
/** Coarsest last; the order matters (a finer table can serve a coarser granularity, never the reverse). */
export const GRANULARITIES = ["minute", "hour", "day", "week", "month"] as const;

export type BaseMeasure = (typeof BASE_MEASURES)[number];
export type DerivedMeasure = (typeof DERIVED_MEASURES)[number];
export type Measure = (typeof MEASURES)[number];
export type Dimension = (typeof DIMENSIONS)[number];
export type Granularity = (typeof GRANULARITIES)[number];
export type Member = Measure | Dimension;
/** Anything a query can order by: a measure, a dimension, or the time bucket. */
export type OrderMember = Member | typeof TIME_DIMENSION;

/**
 * What a member's values are: `count` (exact integer), `money` (exact decimal, 6 places), `ratio`
 * (double precision, null when the denominator is 0), `string`, `time` (bucket start, local wall time).
 */
export type MemberType = "count" | "money" | "ratio" | "string" | "time";

export interface MemberInfo {
  name: string;
  type: MemberType;
  title: string;
  description: string;
}

export interface DerivedMeasureInfo extends MemberInfo {
  numerator: BaseMeasure;
  denominator: BaseMeasure;
}

/** The event kind each counted measure counts, in raw events. */
export const COUNTED_KIND = {
  impressions: "impression",
  views: "view",
  clicks: "click",
  conversions: "conversion",
} as const satisfies Partial<Record<BaseMeasure, string>>;

export const BASE_MEASURE_INFO: Record<BaseMeasure, MemberInfo> = {
  impressions: {
    name: "impressions",
    type: "count",
    title: "Impressions",
    description: "Number of impression events.",
  },
  views: { name: "views", type: "count", title: "Views", description: "Number of view events." },
  clicks: { name: "clicks", type: "count", title: "Clicks", description: "Number of click events." },
  conversions: {
    name: "conversions",
    type: "count",
    title: "Conversions",
    description: "Number of conversion events.",
  },
  spend: {
    name: "spend",
    type: "money",
    title: "Spend",
    description: "Sum of `cost` over events of every kind (an event carries the cost it was billed).",
  },
  revenue: {
    name: "revenue",
    type: "money",
    title: "Revenue",
    description: "Sum of `revenue` over events of every kind (usually carried by conversions).",
  },
};

export const DERIVED_MEASURE_INFO: Record<DerivedMeasure, DerivedMeasureInfo> = {
  ctr: {
    name: "ctr",
    type: "ratio",
    title: "Click-through rate",
    description: "clicks / impressions; null when there are no impressions.",
    numerator: "clicks",
    denominator: "impressions",
  },
  cpc: {
    name: "cpc",
    type: "ratio",
    title: "Cost per click",
    description: "spend / clicks; null when there are no clicks.",
    numerator: "spend",
    denominator: "clicks",
  },
  cpa: {
    name: "cpa",
    type: "ratio",
    title: "Cost per acquisition",
    description: "spend / conversions; null when there are no conversions.",
    numerator: "spend",
    denominator: "conversions",
  },
  roas: {
    name: "roas",
    type: "ratio",
    title: "Return on ad spend",
    description: "revenue / spend; null when spend is 0.",
    numerator: "revenue",
    denominator: "spend",
  },
  conversion_rate: {
    name: "conversion_rate",
    type: "ratio",
    title: "Conversion rate",
    description: "conversions / clicks; null when there are no clicks.",
    numerator: "conversions",
    denominator: "clicks",
  },
};

export const DIMENSION_INFO: Record<Dimension, MemberInfo> = {
  channel: {
    name: "channel",
    type: "string",
    title: "Channel",
    description: "Where the ad ran: facebook, google, twitter, email…",
  },
  campaign: { name: "campaign", type: "string", title: "Campaign", description: "Campaign name." },
  ad: { name: "ad", type: "string", title: "Ad", description: "Ad identifier." },
  country: {
    name: "country",
    type: "string",
    title: "Country",
    description: "ISO 3166-1 alpha-2 country code.",
  },
  city: { name: "city", type: "string", title: "City", description: "City name." },
};

export const TIME_DIMENSION_INFO: MemberInfo = {
  name: TIME_DIMENSION,
  type: "time",
  title: "Time",
  description:
    "Event time. Bucketed by the query's granularity in its timezone; values are the bucket's local start.",
};

export function isMeasure(name: string): name is Measure {
  return (MEASURES as readonly string[]).includes(name);
}

export function isDimension(name: string): name is Dimension {
  return (DIMENSIONS as readonly string[]).includes(name);
}

export function isDerivedMeasure(name: string): name is DerivedMeasure {
  return (DERIVED_MEASURES as readonly string[]).includes(name);
}

/** The type of any member, measure or dimension. */
export function memberType(member: Member): MemberType {
  if (isDerivedMeasure(member)) return DERIVED_MEASURE_INFO[member].type;
  if (isMeasure(member)) return BASE_MEASURE_INFO[member].type;
  return DIMENSION_INFO[member].type;
}

/** The catalogue as data, for `GET /v1/meta`. */
export function catalogueMeta() {
  return {
    measures: [
      ...BASE_MEASURES.map((m) => ({ ...BASE_MEASURE_INFO[m] })),
      ...DERIVED_MEASURES.map((m) => {
        const { numerator, denominator, ...info } = DERIVED_MEASURE_INFO[m];
        return { ...info, formula: `${numerator} / ${denominator}` };
      }),
    ],
    dimensions: DIMENSIONS.map((d) => ({ ...DIMENSION_INFO[d] })),
    timeDimensions: [{ ...TIME_DIMENSION_INFO, granularities: [...GRANULARITIES] }],
  };
}

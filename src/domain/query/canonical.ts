// The canonical form of a query: one spelling per question, with every relative thing made absolute.
// The cache key is its hash, and the compiler works from the same resolved form, so one key always means one
// SQL statement. The canonical form is itself a valid query (the edge can publish it to the query actor, which
// validates it again), and canonicalising it again changes nothing.
import {
  DIMENSIONS,
  type Dimension,
  type Granularity,
  MEASURES,
  type Measure,
  type OrderMember,
  TIME_DIMENSION,
} from "./catalogue.ts";
import { absoluteDateRange, type InstantRange, resolveDateRange } from "./date-range.ts";
import { normalizeFilters } from "./normalize-filters.ts";
import { orderEntries } from "./rules.ts";
import { type FilterNode, LIMITS, type OrderDirection, type Query } from "./schema.ts";
import { sha256Hex, stableJson } from "./stable-json.ts";
import { canonicalTimezone } from "./timezone.ts";

/** A query with defaults filled in, members in catalogue order, filters normalised and dates absolute. */
export interface ResolvedQuery {
  measures: Measure[];
  dimensions: Dimension[];
  /** Null: no time buckets. */
  granularity: Granularity | null;
  /** Null: all time (the query had no timeDimension). */
  range: InstantRange | null;
  /** IANA name in lower case; "UTC" whenever the zone cannot change the answer (no granularity). */
  timezone: string;
  filters: FilterNode[];
  /** Explicit sort; the compiler breaks ties by every selected column, so results are deterministic. */
  order: [OrderMember, OrderDirection][];
  limit: number;
  offset: number;
}

/** Bumped when the meaning of a canonical query changes, so old cache entries stop matching. */
const HASH_VERSION = "fairway.query.v1";

function inCatalogueOrder<T extends string>(catalogue: readonly T[], members: readonly T[] | undefined): T[] {
  const wanted = new Set(members ?? []);
  return catalogue.filter((member) => wanted.has(member));
}

function defaultOrder(granularity: Granularity | null, measures: Measure[]): [OrderMember, OrderDirection][] {
  if (granularity) return [[TIME_DIMENSION, "asc"]];
  const [first] = measures;
  return first ? [[first, "desc"]] : [];
}

/**
 * Resolves a valid query against `now` (epoch ms). Throws a RangeError only when `parseQuery` would have
 * refused the query at that instant (e.g. a relative range that leaves the queryable years).
 */
export function resolveQuery(query: Query, now: number): ResolvedQuery {
  const zone = canonicalTimezone(query.timezone ?? "UTC");
  if (zone === null) throw new RangeError(`unknown time zone ${query.timezone}`);
  const measures = inCatalogueOrder(MEASURES, query.measures);
  const dimensions = inCatalogueOrder(DIMENSIONS, query.dimensions);
  const granularity = query.timeDimension?.granularity ?? null;
  let range: InstantRange | null = null;
  if (query.timeDimension) {
    const resolved = resolveDateRange(query.timeDimension.dateRange, zone, now);
    if (!resolved.ok) throw new RangeError(`dateRange${resolved.field}: ${resolved.message}`);
    range = resolved.range;
  }
  const order = orderEntries(query.order).map(({ member, direction }): [OrderMember, OrderDirection] => [
    member as OrderMember,
    direction,
  ]);
  return {
    measures,
    dimensions,
    granularity,
    range,
    timezone: granularity ? zone : "UTC",
    filters: normalizeFilters(query.filters),
    order: order.length > 0 ? order : defaultOrder(granularity, measures),
    limit: query.limit ?? LIMITS.defaultLimit,
    offset: query.offset ?? 0,
  };
}

/** The resolved form written as a query (what the cache key hashes, and what the edge can publish). */
export function toQuery(resolved: ResolvedQuery): Query {
  const query: Query = {};
  if (resolved.measures.length > 0) query.measures = resolved.measures;
  if (resolved.dimensions.length > 0) query.dimensions = resolved.dimensions;
  if (resolved.range) {
    query.timeDimension = { dateRange: absoluteDateRange(resolved.range) };
    if (resolved.granularity) query.timeDimension.granularity = resolved.granularity;
  }
  if (resolved.filters.length > 0) query.filters = resolved.filters;
  if (resolved.order.length > 0) query.order = resolved.order;
  query.limit = resolved.limit;
  query.offset = resolved.offset;
  query.timezone = resolved.timezone;
  return query;
}

/** The canonical query for `query` at `now`. */
export function canonicalQuery(query: Query, now: number): Query {
  return toQuery(resolveQuery(query, now));
}

/**
 * The canonical query and its SHA-256 (hex). Combine the hash with the tenant's data version for the cache key.
 *
 * @example const { hash, canonical } = await queryHash(parsed.query, Date.now());
 */
export async function queryHash(query: Query, now: number): Promise<{ hash: string; canonical: Query }> {
  const canonical = canonicalQuery(query, now);
  return { hash: await sha256Hex(`${HASH_VERSION}\n${stableJson(canonical)}`), canonical };
}

// The answer to a query computed by brute force over the events in memory: the oracle the compiled SQL is
// checked against. It shares only date-range resolution and defaults (resolveQuery) with the compiler;
// filtering, bucketing, aggregation, ratios, HAVING, ordering and paging are written again here, plainly.
import {
  COUNTED_KIND,
  DERIVED_MEASURE_INFO,
  type Dimension,
  type FilterLeaf,
  type FilterNode,
  isDerivedMeasure,
  isMeasure,
  type Measure,
  type Query,
  type ResultRow,
  resolveQuery,
} from "../../../src/domain/query/index.ts";
import { formatWallTime, truncateWallTime, wallTimeAt } from "../../../src/domain/query/timezone.ts";
import type { EventToStore } from "../../../src/warehouse/rollups.ts";

export interface TestEvent {
  tenantId: string;
  eventId: string;
  ts: number;
  kind: "impression" | "view" | "click" | "conversion";
  channel: string;
  campaign: string;
  ad: string;
  country: string;
  city: string;
  /** Money in millionths, so sums are exact. */
  costMicros: number;
  revenueMicros: number;
}

const money = (micros: number) => `${Math.trunc(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;

export function toStored(event: TestEvent): EventToStore {
  return {
    eventId: event.eventId,
    ts: new Date(event.ts),
    kind: event.kind,
    channel: event.channel,
    campaign: event.campaign,
    ad: event.ad,
    country: event.country,
    city: event.city,
    cost: money(event.costMicros),
    revenue: money(event.revenueMicros),
  };
}

interface Totals {
  impressions: number;
  views: number;
  clicks: number;
  conversions: number;
  spendMicros: number;
  revenueMicros: number;
}

type Value = string | number | null;

function measureValue(measure: Measure, totals: Totals): number | null {
  if (isDerivedMeasure(measure)) {
    const { numerator, denominator } = DERIVED_MEASURE_INFO[measure];
    const under = measureValue(denominator, totals) as number;
    return under === 0 ? null : (measureValue(numerator, totals) as number) / under;
  }
  if (measure === "spend") return totals.spendMicros / 1e6;
  if (measure === "revenue") return totals.revenueMicros / 1e6;
  return totals[measure];
}

function leafHolds(leaf: FilterLeaf, value: Value): boolean {
  const values = leaf.values ?? [];
  const text = typeof value === "string" ? value.toLowerCase() : "";
  const asNumbers = values.map(Number);
  switch (leaf.operator) {
    case "equals":
    case "in":
      return (
        value !== null && (typeof value === "string" ? values.includes(value) : asNumbers.includes(value))
      );
    case "notEquals":
    case "notIn":
      return !(
        value !== null && (typeof value === "string" ? values.includes(value) : asNumbers.includes(value))
      );
    case "gt":
      return value !== null && (value as number) > (asNumbers[0] as number);
    case "gte":
      return value !== null && (value as number) >= (asNumbers[0] as number);
    case "lt":
      return value !== null && (value as number) < (asNumbers[0] as number);
    case "lte":
      return value !== null && (value as number) <= (asNumbers[0] as number);
    case "contains":
      return values.some((v) => text.includes(String(v).toLowerCase()));
    case "notContains":
      return !values.some((v) => text.includes(String(v).toLowerCase()));
    case "startsWith":
      return values.some((v) => text.startsWith(String(v).toLowerCase()));
    case "endsWith":
      return values.some((v) => text.endsWith(String(v).toLowerCase()));
    case "set":
      return value !== null;
    case "notSet":
      return value === null;
  }
}

function holds(node: FilterNode, read: (member: string) => Value): boolean {
  if ("member" in node) return leafHolds(node, read(node.member));
  if ("and" in node) return node.and.every((child) => holds(child, read));
  return node.or.some((child) => holds(child, read));
}

const isMeasureOnly = (node: FilterNode): boolean =>
  "member" in node ? isMeasure(node.member) : ("and" in node ? node.and : node.or).every(isMeasureOnly);
const conjuncts = (node: FilterNode): FilterNode[] => ("and" in node ? node.and.flatMap(conjuncts) : [node]);

function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** The rows the query should return for `tenantId`, given every stored event (all tenants). */
export function referenceAnswer(
  events: readonly TestEvent[],
  query: Query,
  tenantId: string,
  now: number,
): ResultRow[] {
  const q = resolveQuery(query, now);
  const filters = q.filters.flatMap(conjuncts);
  const where = filters.filter((f) => !isMeasureOnly(f));
  const having = filters.filter(isMeasureOnly);

  const groups = new Map<string, { keys: Record<string, string>; totals: Totals }>();
  for (const event of events) {
    if (event.tenantId !== tenantId) continue;
    if (q.range && (event.ts < q.range.from || event.ts >= q.range.to)) continue;
    if (!where.every((f) => holds(f, (member) => event[member as Dimension]))) continue;
    const keys: Record<string, string> = {};
    if (q.granularity)
      keys.ts = formatWallTime(truncateWallTime(wallTimeAt(event.ts, q.timezone), q.granularity));
    for (const dimension of q.dimensions) keys[dimension] = event[dimension];
    const id = JSON.stringify(keys);
    let group = groups.get(id);
    if (!group) {
      group = {
        keys,
        totals: { impressions: 0, views: 0, clicks: 0, conversions: 0, spendMicros: 0, revenueMicros: 0 },
      };
      groups.set(id, group);
    }
    for (const [measure, kind] of Object.entries(COUNTED_KIND)) {
      if (event.kind === kind) group.totals[measure as keyof typeof COUNTED_KIND]++;
    }
    group.totals.spendMicros += event.costMicros;
    group.totals.revenueMicros += event.revenueMicros;
  }
  // Without time buckets or dimensions, SQL aggregates over no rows still return one row.
  if (groups.size === 0 && !q.granularity && q.dimensions.length === 0 && q.measures.length > 0) {
    groups.set("{}", {
      keys: {},
      totals: { impressions: 0, views: 0, clicks: 0, conversions: 0, spendMicros: 0, revenueMicros: 0 },
    });
  }

  let rows = [...groups.values()]
    .filter(({ totals }) =>
      having.every((f) => holds(f, (member) => measureValue(member as Measure, totals))),
    )
    .map(({ keys, totals }) => {
      const row: ResultRow = { ...keys };
      for (const measure of q.measures) row[measure] = measureValue(measure, totals);
      return row;
    });

  const grouped = [...(q.granularity ? ["ts"] : []), ...q.dimensions];
  const sortBy: [string, "asc" | "desc"][] = [
    ...q.order,
    ...grouped.filter((c) => !q.order.some(([m]) => m === c)).map((c): [string, "asc"] => [c, "asc"]),
  ];
  rows.sort((a, b) => {
    for (const [member, direction] of sortBy) {
      const av = a[member] ?? null;
      const bv = b[member] ?? null;
      // Nulls last in both directions.
      if (av === null || bv === null) {
        const c = compareValues(av, bv);
        if (c !== 0) return c;
        continue;
      }
      const c = compareValues(av, bv) * (direction === "desc" ? -1 : 1);
      if (c !== 0) return c;
    }
    return 0;
  });
  rows = rows.slice(q.offset, q.offset + q.limit);
  return rows;
}

// The shape of a semantic query, as zod schemas. Shape only: rules that depend on more than one field (an
// operator's fit to its member's type, order members being selected, date ranges) live in rules.ts, and
// parse.ts runs both. Everything is bounded so that no input can make validation or compilation expensive.
import { z } from "zod";
import {
  DIMENSIONS,
  GRANULARITIES,
  type Granularity,
  MEASURES,
  type Member,
  TIME_DIMENSION,
} from "./catalogue.ts";

export const LIMITS = {
  /** Rows returned when the query gives no limit. */
  defaultLimit: 1000,
  maxLimit: 50_000,
  maxOffset: 1_000_000,
  maxMembers: 20,
  /** Items in `filters`, and in each `and` / `or`. */
  maxFilters: 20,
  /** Filter conditions (leaves) in the whole query. */
  maxFilterLeaves: 100,
  /** Levels of `and` / `or` nesting below the top-level list. */
  maxFilterDepth: 4,
  maxValues: 100,
  maxValueLength: 256,
  maxOrder: 20,
  maxTimezoneLength: 64,
} as const;

export const FILTER_OPERATORS = [
  "equals",
  "notEquals",
  "in",
  "notIn",
  "gt",
  "gte",
  "lt",
  "lte",
  "contains",
  "notContains",
  "startsWith",
  "endsWith",
  "set",
  "notSet",
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const ORDER_DIRECTIONS = ["asc", "desc"] as const;
export type OrderDirection = (typeof ORDER_DIRECTIONS)[number];

/** Shortens what a caller sent before it is echoed in an error message. */
export function quoteInput(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = typeof value;
  }
  return text.length > 66 ? `${text.slice(0, 64)}…` : text;
}

function oneOf(kind: string, options: readonly string[]) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined
      ? `${kind} is required`
      : `unknown ${kind} ${quoteInput(issue.input)}; expected one of ${options.join(", ")}`;
}

const measure = z.enum(MEASURES, { error: oneOf("measure", MEASURES) });
const dimension = z.enum(DIMENSIONS, { error: oneOf("dimension", DIMENSIONS) });
const member = z.enum([...MEASURES, ...DIMENSIONS], {
  error: oneOf("member", [...MEASURES, ...DIMENSIONS]),
});
const granularity = z.enum(GRANULARITIES, { error: oneOf("granularity", GRANULARITIES) });
const operator = z.enum(FILTER_OPERATORS, { error: oneOf("operator", FILTER_OPERATORS) });
const direction = z.enum(ORDER_DIRECTIONS, { error: oneOf("direction", ORDER_DIRECTIONS) });

const filterValue = z.union([z.string().max(LIMITS.maxValueLength), z.number()], {
  error: (issue) =>
    typeof issue.input === "string"
      ? `must be at most ${LIMITS.maxValueLength} characters`
      : "must be a string or a finite number",
});

/** `[from, to]` (dates or date-times, both ends included) or a relative range such as `"last 7 days"`. */
export const dateRangeSchema = z.union(
  [z.tuple([z.string().max(40), z.string().max(40)]), z.string().max(40)],
  { error: 'expected [from, to] or a relative range such as "last 7 days"' },
);

export const timeDimensionSchema = z.strictObject({
  dimension: z.literal(TIME_DIMENSION, { error: `the time dimension is "${TIME_DIMENSION}"` }).optional(),
  granularity: granularity.optional(),
  dateRange: dateRangeSchema,
});

export const filterLeafSchema = z.strictObject({
  member,
  operator,
  values: z.array(filterValue).max(LIMITS.maxValues).optional(),
});

export type FilterLeaf = z.output<typeof filterLeafSchema>;
export type FilterNode = FilterLeaf | { and: FilterNode[] } | { or: FilterNode[] };

export const filterNodeSchema: z.ZodType<FilterNode> = z.lazy(() =>
  z.union(
    [
      z.strictObject({ and: z.array(filterNodeSchema).min(1).max(LIMITS.maxFilters) }),
      z.strictObject({ or: z.array(filterNodeSchema).min(1).max(LIMITS.maxFilters) }),
      filterLeafSchema,
    ],
    { error: "expected a filter: {member, operator, values}, {and: [...]} or {or: [...]}" },
  ),
);

/** `{"clicks": "desc"}` (key order is the sort order) or `[["clicks", "desc"], ["channel", "asc"]]`. */
export const orderSchema = z.union(
  [
    z.record(z.string().max(64), direction),
    z.array(z.tuple([z.string().max(64), direction])).max(LIMITS.maxOrder),
  ],
  { error: 'expected {"member": "asc" | "desc"} or [["member", "asc" | "desc"], ...]' },
);

function integerFrom(min: number, max: number) {
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const querySchema = z.strictObject({
  measures: z.array(measure).max(LIMITS.maxMembers).optional(),
  dimensions: z.array(dimension).max(LIMITS.maxMembers).optional(),
  timeDimension: timeDimensionSchema.optional(),
  filters: z.array(filterNodeSchema).max(LIMITS.maxFilters).optional(),
  order: orderSchema.optional(),
  limit: integerFrom(1, LIMITS.maxLimit).optional(),
  offset: integerFrom(0, LIMITS.maxOffset).optional(),
  timezone: z.string().min(1).max(LIMITS.maxTimezoneLength).optional(),
});

/** A query whose shape is valid (rules.ts checks the rest). */
export type QueryShape = z.output<typeof querySchema>;
export type DateRange = z.output<typeof dateRangeSchema>;
export type TimeDimension = z.output<typeof timeDimensionSchema>;

/** A fully validated query, as `parseQuery` returns it (same type; only parseQuery vouches for the rules). */
export type Query = QueryShape;

export type { Granularity, Member };

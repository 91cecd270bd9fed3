// Rules for filters beyond their shape: each operator fits its member's type and gets values of that type;
// `and` / `or` trees are bounded; an `or` (and anything under one) does not mix measures, filtered after
// aggregation (HAVING), with dimensions, filtered before (WHERE).
import { isMeasure, type MemberType, memberType } from "./catalogue.ts";
import type { QueryError } from "./errors.ts";
import { type FilterLeaf, type FilterNode, type FilterOperator, LIMITS, quoteInput } from "./schema.ts";

const STRING_OPERATORS: readonly FilterOperator[] = [
  "equals",
  "notEquals",
  "in",
  "notIn",
  "contains",
  "notContains",
  "startsWith",
  "endsWith",
  "set",
  "notSet",
];
const NUMBER_OPERATORS: readonly FilterOperator[] = [
  "equals",
  "notEquals",
  "in",
  "notIn",
  "gt",
  "gte",
  "lt",
  "lte",
  "set",
  "notSet",
];

/** Operators that take no values, and those that take exactly one. */
const NO_VALUES: readonly FilterOperator[] = ["set", "notSet"];
const ONE_VALUE: readonly FilterOperator[] = ["gt", "gte", "lt", "lte"];

/** Numbers compared with measures: plain decimals, bounded so they fit Postgres numeric and float8 alike. */
const NUMERIC_TEXT = /^-?\d{1,15}(\.\d{1,6})?$/;
const MAX_NUMERIC = 1e15;

/** A filter value as a number, or null when it is not one a measure can be compared with. */
export function numericValue(value: string | number): number | null {
  if (typeof value === "number")
    return Number.isFinite(value) && Math.abs(value) < MAX_NUMERIC ? value : null;
  return NUMERIC_TEXT.test(value) ? Number(value) : null;
}

function operatorsFor(type: MemberType): readonly FilterOperator[] {
  return type === "string" ? STRING_OPERATORS : NUMBER_OPERATORS;
}

/** Whether a filter tree names measures (HAVING) or dimensions (WHERE), or both. */
export type FilterPhase = "measure" | "dimension" | "mixed";

export function filterPhase(node: FilterNode): FilterPhase {
  if ("member" in node) return isMeasure(node.member) ? "measure" : "dimension";
  const children = "and" in node ? node.and : node.or;
  const phases = new Set(children.map(filterPhase));
  return phases.size === 1 ? ([...phases][0] ?? "mixed") : "mixed";
}

/** A top-level filter as the conditions it ANDs together: `and` groups opened, everything else whole. */
export function conjuncts(node: FilterNode): FilterNode[] {
  return "and" in node ? node.and.flatMap(conjuncts) : [node];
}

function checkLeaf(leaf: FilterLeaf, field: string, errors: QueryError[]): void {
  const type = memberType(leaf.member);
  const allowed = operatorsFor(type);
  if (!allowed.includes(leaf.operator)) {
    errors.push({
      field: `${field}.operator`,
      message: `"${leaf.operator}" does not apply to ${type} member "${leaf.member}"; use one of ${allowed.join(", ")}`,
    });
    return;
  }
  const values = leaf.values ?? [];
  if (NO_VALUES.includes(leaf.operator)) {
    if (values.length > 0)
      errors.push({ field: `${field}.values`, message: `"${leaf.operator}" takes no values` });
    return;
  }
  if (ONE_VALUE.includes(leaf.operator) && values.length !== 1) {
    errors.push({ field: `${field}.values`, message: `"${leaf.operator}" takes exactly one value` });
    return;
  }
  if (values.length === 0) {
    errors.push({ field: `${field}.values`, message: `"${leaf.operator}" needs at least one value` });
    return;
  }
  values.forEach((value, i) => {
    if (type === "string" && typeof value !== "string") {
      errors.push({ field: `${field}.values[${i}]`, message: `"${leaf.member}" values must be strings` });
    } else if (type !== "string" && numericValue(value) === null) {
      errors.push({
        field: `${field}.values[${i}]`,
        message: `"${leaf.member}" values must be numbers (or decimal strings) below 1e15, got ${quoteInput(value)}`,
      });
    }
  });
}

interface FilterBudget {
  leaves: number;
}

/**
 * `underOr`: some ancestor is an `or`. An `and` reached through `and`s only is split into WHERE and HAVING
 * parts, so it may mix; anything under an `or` is evaluated as one predicate, so it may not.
 */
function checkFilter(
  node: FilterNode,
  field: string,
  depth: number,
  underOr: boolean,
  budget: FilterBudget,
  errors: QueryError[],
) {
  if ("member" in node) {
    budget.leaves++;
    checkLeaf(node, field, errors);
    return;
  }
  const key = "and" in node ? "and" : "or";
  if (depth >= LIMITS.maxFilterDepth) {
    errors.push({ field, message: `filters nest at most ${LIMITS.maxFilterDepth} levels of and / or` });
    return;
  }
  const nowUnderOr = underOr || key === "or";
  if (nowUnderOr && filterPhase(node) === "mixed") {
    errors.push({
      field,
      message: `an "or" cannot mix measures and dimensions: measure filters apply after aggregation, dimension filters before`,
    });
  }
  const children = "and" in node ? node.and : node.or;
  children.forEach((child, i) => {
    checkFilter(child, `${field}.${key}[${i}]`, depth + 1, nowUnderOr, budget, errors);
  });
}

/** Checks the top-level filter list; errors name each offending field. */
export function checkFilters(filters: readonly FilterNode[] | undefined, errors: QueryError[]): void {
  const budget = { leaves: 0 };
  filters?.forEach((node, i) => {
    checkFilter(node, `filters[${i}]`, 0, false, budget, errors);
  });
  if (budget.leaves > LIMITS.maxFilterLeaves) {
    errors.push({ field: "filters", message: `at most ${LIMITS.maxFilterLeaves} filter conditions in all` });
  }
}

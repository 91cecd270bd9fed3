// Filters as SQL predicates. Values only ever travel as bound parameters: a list is one array parameter
// (`= ANY($n::text[])`), patterns are escaped for LIKE before they are bound, so a predicate's text depends on
// the members and operators alone.
import { isMeasure, type MemberType, memberType } from "./catalogue.ts";
import type { FilterLeaf, FilterNode } from "./schema.ts";
import type { Source } from "./source.ts";
import { dimensionSql, measureSql } from "./sql-members.ts";

/** Collects bound values; `add` returns the placeholder to write in the SQL. */
export class SqlParams {
  readonly values: (string | number | string[])[] = [];
  add(value: string | number | string[]): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * How a list of values is bound, by member type. Lists always travel as text[] and are cast in SQL: the
 * parameter's type is then text[] whatever the client (drizzle's postgres.js setup passes numeric[] values
 * through unserialised), and numbers keep their exact decimal spelling.
 */
const ARRAY_TYPE: Record<MemberType, string> = {
  count: "text[]::numeric[]",
  money: "text[]::numeric[]",
  ratio: "text[]::float8[]",
  string: "text[]",
  time: "text[]",
};
const SCALAR_TYPE: Record<MemberType, string> = {
  count: "numeric",
  money: "numeric",
  ratio: "float8",
  string: "text",
  time: "text",
};

const COMPARISONS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

/** A value as literal LIKE text: `%`, `_` and the escape character itself match only themselves. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, "\\$&");
}

const PATTERNS = {
  contains: (v: string) => `%${escapeLike(v)}%`,
  notContains: (v: string) => `%${escapeLike(v)}%`,
  startsWith: (v: string) => `${escapeLike(v)}%`,
  endsWith: (v: string) => `%${escapeLike(v)}`,
} as const;

function leafSql(leaf: FilterLeaf, source: Source, params: SqlParams): string {
  const expr = isMeasure(leaf.member) ? measureSql(leaf.member, source) : dimensionSql(leaf.member);
  const type = memberType(leaf.member);
  // Values are bound as text and cast in SQL, so numbers keep their exact decimal spelling.
  const values = (leaf.values ?? []).map(String);
  switch (leaf.operator) {
    case "equals":
    case "in":
      return `(${expr}) = ANY(${params.add(values)}::${ARRAY_TYPE[type]})`;
    case "notEquals":
    case "notIn":
      // IS NOT TRUE keeps rows whose value is null (a ratio over nothing): they are not in the list.
      return `((${expr}) = ANY(${params.add(values)}::${ARRAY_TYPE[type]})) IS NOT TRUE`;
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return `(${expr}) ${COMPARISONS[leaf.operator]} ${params.add(values[0] ?? "")}::${SCALAR_TYPE[type]}`;
    case "contains":
    case "startsWith":
    case "endsWith":
      return `(${expr}) ILIKE ANY(${params.add(values.map(PATTERNS[leaf.operator]))}::text[])`;
    case "notContains":
      return `((${expr}) ILIKE ANY(${params.add(values.map(PATTERNS.notContains))}::text[])) IS NOT TRUE`;
    case "set":
      return `(${expr}) IS NOT NULL`;
    case "notSet":
      return `(${expr}) IS NULL`;
  }
}

/** A filter tree as one parenthesised predicate. */
export function filterSql(node: FilterNode, source: Source, params: SqlParams): string {
  if ("member" in node) return leafSql(node, source, params);
  const [joiner, children] = "and" in node ? [" AND ", node.and] : [" OR ", node.or];
  return `(${children.map((child) => filterSql(child, source, params)).join(joiner)})`;
}

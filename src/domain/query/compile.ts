// A semantic query → one parameterised Postgres statement over the cheapest exact source.
//
// Trust: the tenant predicate `f.tenant_id = $1` is always there, written here and nowhere else; member names
// become SQL only through the catalogue maps in sql-members.ts; every value (tenant, zone, instants, filter
// values, limit, offset) is a bound parameter. Results are deterministic: after the requested order, rows are
// ordered by every selected time / dimension column, which together are unique per row.

import { type ResolvedQuery, resolveQuery } from "./canonical.ts";
import {
  type Dimension,
  type MemberType,
  memberType,
  type OrderMember,
  TIME_DIMENSION,
} from "./catalogue.ts";
import { conjuncts, filterPhase } from "./filter-rules.ts";
import type { Query } from "./schema.ts";
import { chooseSource, SOURCE_TABLES, type Source } from "./source.ts";
import { filterSql, SqlParams } from "./sql-filters.ts";
import { bucketLabelSql, bucketSql, dimensionSql, measureSql, timeColumnSql } from "./sql-members.ts";

export interface CompiledColumn {
  /** The member name; also the column's name in each result row. */
  name: OrderMember;
  kind: "time" | "dimension" | "measure";
  type: MemberType;
}

export interface CompiledQuery {
  text: string;
  params: (string | number | string[])[];
  source: Source;
  columns: CompiledColumn[];
}

export interface CompileOptions {
  tenantId: string;
  /** The instant relative date ranges resolve against (epoch ms). */
  now: number;
  /** False answers from raw events even when a rollup could (reconciliation, benchmarks, tests). */
  useRollups?: boolean;
  /** The wall clock (epoch ms) the minute rollup's window is measured from; `now` when not given. */
  clock?: number;
}

/**
 * Compiles a query that `parseQuery` accepted.
 *
 * @example
 * const { text, params } = compileQuery(parsed.query, { tenantId, now: Date.now() });
 * const rows = await wh.sql.unsafe(text, params);
 */
export function compileQuery(query: Query, options: CompileOptions): CompiledQuery {
  return compileResolved(resolveQuery(query, options.now), {
    ...options,
    clock: options.clock ?? options.now,
  });
}

interface SelectItem {
  sql: string;
  column: CompiledColumn;
  /** The expression to group by, for time and dimension columns. */
  groupBy?: string;
}

export function compileResolved(
  query: ResolvedQuery,
  options: Pick<CompileOptions, "tenantId" | "useRollups"> & { clock: number },
): CompiledQuery {
  const params = new SqlParams();
  const tenant = params.add(options.tenantId);
  const source = options.useRollups === false ? "raw" : chooseSource(query, options.clock);

  const items: SelectItem[] = [];
  if (query.granularity) {
    const bucket = bucketSql(query.granularity, source, params.add(query.timezone));
    items.push({
      sql: bucketLabelSql(bucket),
      groupBy: bucket,
      column: { name: TIME_DIMENSION, kind: "time", type: "time" },
    });
  }
  for (const dimension of query.dimensions) {
    const sql = dimensionSql(dimension as Dimension);
    items.push({ sql, groupBy: sql, column: { name: dimension, kind: "dimension", type: "string" } });
  }
  for (const measure of query.measures) {
    items.push({
      sql: measureSql(measure, source),
      column: { name: measure, kind: "measure", type: memberType(measure) },
    });
  }

  const where = [`f.tenant_id = ${tenant}`];
  if (query.range) {
    const time = timeColumnSql(source);
    where.push(`${time} >= ${params.add(new Date(query.range.from).toISOString())}::timestamptz`);
    where.push(`${time} < ${params.add(new Date(query.range.to).toISOString())}::timestamptz`);
  }
  const having: string[] = [];
  for (const filter of query.filters.flatMap(conjuncts)) {
    const predicate = `(${filterSql(filter, source, params)})`;
    if (filterPhase(filter) === "measure") having.push(predicate);
    else where.push(predicate);
  }

  // Columns are sorted by position, except time: by its bucket, a timestamp, rather than its text label. The
  // order is the same (the label is fixed-width, most significant field first, one per bucket), and comparing
  // timestamps is far cheaper than comparing thousands of strings under the database's collation.
  const sortKey = (name: string) => {
    const index = items.findIndex((item) => item.column.name === name);
    if (index < 0) throw new RangeError(`order names "${name}", which is not selected`);
    const item = items[index] as SelectItem;
    return item.column.kind === "time" && item.groupBy ? item.groupBy : String(index + 1);
  };
  const orderBy = query.order.map(
    ([member, direction]) => `${sortKey(member)} ${direction.toUpperCase()} NULLS LAST`,
  );
  const ordered = new Set<string>(query.order.map(([member]) => member));
  for (const item of items) {
    if (item.groupBy && !ordered.has(item.column.name)) orderBy.push(`${sortKey(item.column.name)} ASC`);
  }

  const groupBy = items.flatMap((item) => (item.groupBy ? [item.groupBy] : []));
  const lines = [
    `SELECT ${items.map((item) => `${item.sql} AS "${item.column.name}"`).join(", ")}`,
    `FROM ${SOURCE_TABLES[source]} f`,
    `WHERE ${where.join(" AND ")}`,
  ];
  if (groupBy.length > 0) lines.push(`GROUP BY ${groupBy.join(", ")}`);
  if (having.length > 0) lines.push(`HAVING ${having.join(" AND ")}`);
  if (orderBy.length > 0) lines.push(`ORDER BY ${orderBy.join(", ")}`);
  lines.push(`LIMIT ${params.add(query.limit)}::bigint OFFSET ${params.add(query.offset)}::bigint`);

  return { text: lines.join("\n"), params: params.values, source, columns: items.map((item) => item.column) };
}

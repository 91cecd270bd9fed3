// Rows as the warehouse driver returns them → rows as the API shows them. Postgres sends bigint and numeric
// as text (they may not fit a JS number); Fairway's counts and money fit comfortably, so both become numbers.
import type { CompiledColumn } from "./compile.ts";

export type ResultValue = string | number | null;
export type ResultRow = Record<string, ResultValue>;

function decodeValue(column: CompiledColumn, value: unknown): ResultValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case "count":
    case "money":
    case "ratio":
      return Number(value);
    case "string":
      // char(2) columns (country) come back blank-padded when shorter.
      return String(value).trimEnd();
    case "time":
      return String(value);
  }
}

/** Keeps only the compiled columns, each decoded by its type. */
export function decodeRows(
  columns: readonly CompiledColumn[],
  rows: readonly Record<string, unknown>[],
): ResultRow[] {
  return rows.map((row) => {
    const out: ResultRow = {};
    for (const column of columns) out[column.name] = decodeValue(column, row[column.name]);
    return out;
  });
}

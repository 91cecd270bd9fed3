// Runs a compiled query on the warehouse: a read-only transaction with a statement timeout, cancellable
// (when the permits are lost), and failures sorted into "try again later" and "this query cannot run".
import type { Sql } from "postgres";
import type { CompiledQuery } from "../../src/domain/query/index.ts";
import { decodeRows, type ResultRow } from "../../src/domain/query/index.ts";

export interface QueryRows {
  rows: ResultRow[];
  /** Time of the statement alone, ms. */
  durationMs: number;
}

/**
 * @example const { rows } = await runCompiled(ctx.sql, compiled, 25_000, abort.signal);
 */
export async function runCompiled(
  sql: Sql,
  compiled: CompiledQuery,
  statementTimeoutMs: number,
  signal: AbortSignal,
): Promise<QueryRows> {
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1) {
    throw new RangeError("statementTimeoutMs must be a positive integer");
  }
  return sql.begin("read only", async (tx) => {
    // SET cannot take a bound parameter; the value is an integer checked above.
    await tx.unsafe(`set local statement_timeout = ${statementTimeoutMs}`);
    signal.throwIfAborted();
    const started = performance.now();
    const pending = tx.unsafe(compiled.text, compiled.params as never[]);
    const cancel = () => pending.cancel();
    signal.addEventListener("abort", cancel, { once: true });
    try {
      const raw = await pending;
      return { rows: decodeRows(compiled.columns, raw), durationMs: performance.now() - started };
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  });
}

export interface WarehouseFailure {
  /** True when the same query may well succeed later (connection trouble, overload, restart). */
  transient: boolean;
  /** Safe to show the tenant: no SQL text, no parameters, no server internals. */
  message: string;
  /** SQLSTATE or driver code, for logs. */
  code: string;
}

// Driver-level failures of postgres.js and Node sockets: the warehouse could not be reached or went away.
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/** SQLSTATEs worth a retry: connection exceptions, resources, operator intervention (restart), conflicts. */
function transientSqlState(code: string): boolean {
  return (
    code.startsWith("08") ||
    code.startsWith("53") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    code === "40001" ||
    code === "40P01"
  );
}

export function classifyWarehouseError(error: unknown, statementTimeoutMs: number): WarehouseFailure {
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  if (code === "57014") {
    return {
      transient: false,
      code,
      message: `The query ran longer than ${formatSeconds(statementTimeoutMs)} and was stopped`,
    };
  }
  if (CONNECTION_CODES.has(code) || transientSqlState(code)) {
    return { transient: true, code, message: "The warehouse is unavailable; try again later" };
  }
  return {
    transient: false,
    code: code || "unknown",
    message: code
      ? `The warehouse could not run this query (SQLSTATE ${code})`
      : "The warehouse could not run this query",
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

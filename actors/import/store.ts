// The import actor's bookkeeping in Postgres: the `imports` row (system of record), one `import_chunks` row
// per chunk that landed (its primary key makes a redelivered chunk count once), and the first rejected rows'
// details in `import_errors`. The chunks of one message are booked in one transaction; the row lock on
// `imports` orders concurrent messages, so the error cap is exact and exactly one transaction finishes the
// import.
import type { Sql, TransactionSql } from "postgres";
import { type ImportSettings, MAX_STORED_ERRORS, type RowReject } from "../../src/domain/imports/messages.ts";
import type { ImportRowCopy } from "../../src/domain/imports/redis.ts";
import { finalStatus, type ImportStatus } from "../../src/domain/imports/status.ts";

export interface ChunkTally {
  chunk: number;
  accepted: number;
  rejected: RowReject[];
  /** The chunk's first and last line, to find its stored errors again on a redelivery. */
  firstLine: number;
  lastLine: number;
}

export interface Bookkeeping {
  /** False when this chunk (or seal) had been counted before: nothing changed. */
  counted: boolean;
  /** The row as committed. */
  copy: ImportRowCopy;
  /** Row errors this chunk has stored (on a redelivery: those an earlier delivery stored). */
  storedErrors: RowReject[];
  /** True when this transaction ended the import. */
  finished: boolean;
}

interface ImportRow {
  status: ImportStatus;
  chunks_total: number | null;
  chunks_done: number;
  rows_accepted: string | number;
  rows_rejected: string | number;
  max_reject_ratio: number;
  error: string | null;
  started_ms: number | null;
  finished_ms: number | null;
}

const ROW_COLUMNS = `status, chunks_total, chunks_done, rows_accepted, rows_rejected, max_reject_ratio, error,
  (extract(epoch FROM started_at) * 1000)::float8 AS started_ms,
  (extract(epoch FROM finished_at) * 1000)::float8 AS finished_ms`;

/**
 * Counts each chunk once, all in one transaction: the tallies of those not counted before, their first errors
 * (up to the cap), and the end of the import if the last one is among them.
 */
export async function recordChunks(
  sql: Sql,
  tenantId: string,
  importId: string,
  settings: ImportSettings,
  tallies: readonly ChunkTally[],
  /** Epoch ms when this delivery's work began: the import's start if it is the first to land. */
  startedAt: number,
): Promise<Bookkeeping> {
  return (await sql.begin(async (tx) => {
    await ensureImport(tx, tenantId, importId, settings);
    const freshRows = await tx<{ chunk: number }[]>`
      INSERT INTO import_chunks (tenant_id, import_id, chunk, rows_accepted, rows_rejected)
      SELECT ${tenantId}, ${importId}, chunk, accepted, rejected
      FROM unnest(${tallies.map((t) => t.chunk)}::int[], ${tallies.map((t) => t.accepted)}::int[],
        ${tallies.map((t) => t.rejected.length)}::int[]) AS x(chunk, accepted, rejected)
      ON CONFLICT DO NOTHING RETURNING chunk`;
    const freshChunks = new Set(freshRows.map((row) => row.chunk));
    const fresh = tallies.filter((tally) => freshChunks.has(tally.chunk));
    // Chunks counted before (a redelivery): report the errors their first delivery stored.
    const earlier = await storedErrorsOf(
      tx,
      tenantId,
      importId,
      tallies.filter((tally) => !freshChunks.has(tally.chunk)),
    );
    if (fresh.length === 0) {
      const row = await readRow(tx, tenantId, importId);
      return { counted: false, copy: copyOf(row), storedErrors: earlier, finished: false };
    }
    const accepted = fresh.reduce((sum, tally) => sum + tally.accepted, 0);
    const rejectedRows = fresh.flatMap((tally) => tally.rejected);
    const rejected = rejectedRows.length;
    const [updated] = await tx<(ImportRow & { rejected_before: string })[]>`
      UPDATE imports SET chunks_done = chunks_done + ${fresh.length}, rows_accepted = rows_accepted + ${accepted},
        rows_rejected = rows_rejected + ${rejected},
        status = CASE WHEN status = 'queued' THEN 'running' ELSE status END,
        started_at = coalesce(started_at, least(now(), to_timestamp(${startedAt / 1000})))
      WHERE tenant_id = ${tenantId} AND id = ${importId}
      RETURNING ${tx.unsafe(ROW_COLUMNS)}, rows_rejected - ${rejected} AS rejected_before`;
    const room = Math.max(
      0,
      MAX_STORED_ERRORS - Number((updated as { rejected_before: string }).rejected_before),
    );
    const stored = room > 0 ? await storeErrors(tx, tenantId, importId, rejectedRows, room) : [];
    const ended = await finishIfDone(tx, tenantId, importId, updated as ImportRow);
    return {
      counted: true,
      copy: copyOf(ended.row),
      storedErrors: [...earlier, ...stored].sort((a, b) => a.line - b.line),
      finished: ended.finished,
    };
  })) as Bookkeeping;
}

/** The stored errors within the given chunks' line ranges (none asked: no round trip). */
async function storedErrorsOf(
  tx: TransactionSql,
  tenantId: string,
  importId: string,
  tallies: readonly ChunkTally[],
): Promise<RowReject[]> {
  if (tallies.length === 0) return [];
  const stored = await tx<RowReject[]>`
    SELECT line, "column", reason, coalesce(raw, '') AS raw
    FROM import_errors e
    JOIN unnest(${tallies.map((t) => t.firstLine)}::int[], ${tallies.map((t) => t.lastLine)}::int[])
      AS r(first_line, last_line) ON e.line BETWEEN r.first_line AND r.last_line
    WHERE e.tenant_id = ${tenantId} AND e.import_id = ${importId}
    ORDER BY line`;
  return [...stored];
}

export interface SealTotals {
  chunksTotal: number;
  bytes: number;
  error: string | null;
}

/** Records the upload's totals (once); ends the import when every chunk is already done. */
export async function recordSeal(
  sql: Sql,
  tenantId: string,
  importId: string,
  settings: ImportSettings,
  totals: SealTotals,
): Promise<Bookkeeping> {
  return (await sql.begin(async (tx) => {
    await ensureImport(tx, tenantId, importId, settings);
    const [sealed] = await tx<ImportRow[]>`
      UPDATE imports SET chunks_total = ${totals.chunksTotal}, bytes = ${totals.bytes}, error = ${totals.error}
      WHERE tenant_id = ${tenantId} AND id = ${importId} AND chunks_total IS NULL
      RETURNING ${tx.unsafe(ROW_COLUMNS)}`;
    if (!sealed) {
      return {
        counted: false,
        copy: copyOf(await readRow(tx, tenantId, importId)),
        storedErrors: [],
        finished: false,
      };
    }
    const ended = await finishIfDone(tx, tenantId, importId, sealed);
    return { counted: true, copy: copyOf(ended.row), storedErrors: [], finished: ended.finished };
  })) as Bookkeeping;
}

async function ensureImport(
  tx: TransactionSql,
  tenantId: string,
  importId: string,
  settings: ImportSettings,
): Promise<void> {
  await tx`
    INSERT INTO imports (tenant_id, id, file_name, max_reject_ratio, column_mapping, created_at)
    VALUES (${tenantId}, ${importId}, ${settings.fileName}, ${settings.maxRejectRatio},
      ${settings.columnMapping === null ? null : JSON.stringify(settings.columnMapping)}::jsonb,
      to_timestamp(${settings.createdAt / 1000}))
    ON CONFLICT DO NOTHING`;
}

async function storeErrors(
  tx: TransactionSql,
  tenantId: string,
  importId: string,
  rejected: readonly RowReject[],
  room: number,
): Promise<RowReject[]> {
  const first = [...rejected].sort((a, b) => a.line - b.line).slice(0, room);
  if (first.length === 0) return [];
  const stored = await tx<RowReject[]>`
    INSERT INTO import_errors (tenant_id, import_id, line, "column", reason, raw)
    SELECT ${tenantId}, ${importId}, line, "column", reason, raw
    FROM jsonb_to_recordset(${JSON.stringify(first)}::jsonb) AS x(line int, "column" text, reason text, raw text)
    ON CONFLICT DO NOTHING
    RETURNING line, "column", reason, coalesce(raw, '') AS raw`;
  return [...stored];
}

/** Ends the import when the total is known and every chunk is done; the status follows from the counts. */
async function finishIfDone(
  tx: TransactionSql,
  tenantId: string,
  importId: string,
  row: ImportRow,
): Promise<{ row: ImportRow; finished: boolean }> {
  if (row.finished_ms !== null || row.chunks_total === null || row.chunks_done < row.chunks_total) {
    return { row, finished: false };
  }
  const status = finalStatus(
    Number(row.rows_accepted),
    Number(row.rows_rejected),
    row.max_reject_ratio,
    row.error,
  );
  const [ended] = await tx<ImportRow[]>`
    UPDATE imports SET status = ${status}, finished_at = now(), started_at = coalesce(started_at, now())
    WHERE tenant_id = ${tenantId} AND id = ${importId} AND finished_at IS NULL
    RETURNING ${tx.unsafe(ROW_COLUMNS)}`;
  return ended ? { row: ended, finished: true } : { row, finished: false };
}

async function readRow(tx: TransactionSql, tenantId: string, importId: string): Promise<ImportRow> {
  const [row] = await tx<ImportRow[]>`
    SELECT ${tx.unsafe(ROW_COLUMNS)} FROM imports WHERE tenant_id = ${tenantId} AND id = ${importId}`;
  if (!row) throw new Error(`import ${importId} of ${tenantId} vanished`);
  return row;
}

/** The Redis copy of a row; `rev` grows with every committed change (chunk done, total known, end). */
function copyOf(row: ImportRow): ImportRowCopy {
  return {
    rev: row.chunks_done + (row.chunks_total === null ? 0 : 1) + (row.finished_ms === null ? 0 : 1),
    status: row.status,
    chunksTotal: row.chunks_total,
    chunksDone: row.chunks_done,
    rowsAccepted: Number(row.rows_accepted),
    rowsRejected: Number(row.rows_rejected),
    maxRejectRatio: row.max_reject_ratio,
    startedAt: row.started_ms === null ? null : Math.round(row.started_ms),
    finishedAt: row.finished_ms === null ? null : Math.round(row.finished_ms),
    error: row.error,
  };
}

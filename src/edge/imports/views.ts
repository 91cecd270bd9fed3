// How imports and their row errors look to the tenant: JSON views and the errors as CSV.
import type { RowReject } from "../../domain/imports/messages.ts";
import { displayedStatus, type ImportRecord, progressOf } from "../../domain/imports/status.ts";

/** Errors shown inline by `GET /v1/imports/:id`; the rest are paged by `/errors`. */
export const INLINE_ERRORS = 10;

export function importView(record: ImportRecord, now: number, errors?: readonly RowReject[]) {
  const progress = progressOf(record, now);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: record.id,
    status: displayedStatus(record, now),
    fileName: record.fileName,
    createdAt: iso(record.createdAt),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    upload: {
      state: record.upload,
      bytes: record.bytesReceived,
      rowsRead: record.rowsRead,
      chunksQueued: record.chunksPublished,
      receivedAt: iso(record.receivedAt),
      error: record.uploadError,
    },
    chunks: { total: record.chunksTotal, done: record.chunksDone },
    rows: {
      total: record.rowsTotal,
      accepted: record.rowsAccepted,
      rejected: record.rowsRejected,
      done: progress.rowsDone,
    },
    rowsPerSecond: progress.rowsPerSecond,
    etaSeconds: progress.etaSeconds,
    maxRejectRatio: record.maxRejectRatio,
    ignoredColumns: record.ignoredColumns,
    error: record.error ?? record.uploadError,
    ...(errors === undefined ? {} : { errors: errors.map(errorView) }),
    links: { self: `/v1/imports/${record.id}`, errors: `/v1/imports/${record.id}/errors` },
  };
}

export function errorView(error: RowReject) {
  return { line: error.line, column: error.column, reason: error.reason, raw: error.raw };
}

/** The errors as CSV: `line,column,reason,raw`, RFC 4180 quoting. */
export function errorsCsv(errors: readonly RowReject[], withHeader: boolean): string {
  const lines = withHeader ? ["line,column,reason,raw"] : [];
  for (const error of errors) {
    lines.push([String(error.line), error.column, error.reason, error.raw].map(csvField).join(","));
  }
  return lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
}

function csvField(value: string): string {
  // A leading = + - @ would make a spreadsheet evaluate the cell; a quote keeps it text.
  const guarded = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

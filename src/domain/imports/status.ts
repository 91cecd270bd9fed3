// An import's status as tenants see it. Two writers share one Redis hash, each with fields of its own:
// - the edge, while it reads the upload: `upload` (receiving | received | failed), bytes, rows and chunks
//   read so far, `lastSeenAt`, then the totals;
// - the import actor, after each commit to Postgres (the system of record): a copy of the `imports` row
//   (status, chunks done, rows accepted / rejected, times), tagged with `rev`, a number that grows with every
//   change of that row, so a late copy never overwrites a newer one.

/** The `imports.status` values (the warehouse's check constraint lists the same; a test compares them). */
export const IMPORT_STATUSES = ["queued", "running", "completed", "completed_with_errors", "failed"] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Statuses after which nothing changes. */
export const FINAL_STATUSES: readonly ImportStatus[] = ["completed", "completed_with_errors", "failed"];

/** An upload whose edge has said nothing for this long is taken for dead (the client or the edge went away). */
export const UPLOAD_STALL_MS = 120_000;

/** How the import ends, from its counts: too many rejects (or a broken upload) fail it. */
export function finalStatus(
  accepted: number,
  rejected: number,
  maxRejectRatio: number,
  uploadError: string | null,
): ImportStatus {
  if (uploadError !== null) return "failed";
  const total = accepted + rejected;
  if (total > 0 && rejected / total > maxRejectRatio) return "failed";
  return rejected > 0 ? "completed_with_errors" : "completed";
}

/** The Redis hash, read back (the client turns numeric fields into numbers). */
export interface ImportRecord {
  id: string;
  createdAt: number;
  fileName: string | null;
  maxRejectRatio: number;
  upload: "receiving" | "received" | "failed";
  bytesReceived: number;
  rowsRead: number;
  chunksPublished: number;
  lastSeenAt: number;
  receivedAt: number | null;
  /** Known once the upload is read whole. */
  chunksTotal: number | null;
  rowsTotal: number | null;
  uploadError: string | null;
  ignoredColumns: string[];
  // The actor's copy of the imports row:
  status: ImportStatus | null;
  chunksDone: number;
  rowsAccepted: number;
  rowsRejected: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  rev: number;
}

/** Reads the hash as `HGETALL` returns it; null when there is none. */
export function importRecordFrom(hash: Record<string, unknown> | null): ImportRecord | null {
  if (!hash || hash.id === undefined) return null;
  const num = (name: string) => {
    const value = Number(hash[name] ?? 0);
    return Number.isFinite(value) ? value : 0;
  };
  const optionalNum = (name: string) => (hash[name] === undefined || hash[name] === "" ? null : num(name));
  const optionalText = (name: string) =>
    hash[name] === undefined || hash[name] === "" || hash[name] === null ? null : String(hash[name]);
  const upload = String(hash.upload ?? "received");
  return {
    id: String(hash.id),
    createdAt: num("createdAt"),
    fileName: optionalText("fileName"),
    maxRejectRatio: hash.maxRejectRatio === undefined ? 0.1 : num("maxRejectRatio"),
    upload: upload === "receiving" || upload === "failed" ? upload : "received",
    bytesReceived: num("bytesReceived"),
    rowsRead: num("rowsRead"),
    chunksPublished: num("chunksPublished"),
    lastSeenAt: num("lastSeenAt"),
    receivedAt: optionalNum("receivedAt"),
    chunksTotal: optionalNum("chunksTotal"),
    rowsTotal: optionalNum("rowsTotal"),
    uploadError: optionalText("uploadError"),
    ignoredColumns: listOf(hash.ignoredColumns),
    status: (optionalText("status") as ImportStatus | null) ?? null,
    chunksDone: num("chunksDone"),
    rowsAccepted: num("rowsAccepted"),
    rowsRejected: num("rowsRejected"),
    startedAt: optionalNum("startedAt"),
    finishedAt: optionalNum("finishedAt"),
    error: optionalText("error"),
    rev: num("rev"),
  };
}

export type DisplayedStatus = ImportStatus | "receiving" | "interrupted";

/**
 * What the import is doing: the actor's final word when there is one; `receiving` while the edge reads the
 * body; `interrupted` when that upload broke off or went silent (upload again with the same id to resume);
 * else `queued` until a chunk lands, then `running`.
 */
export function displayedStatus(record: ImportRecord, now: number): DisplayedStatus {
  if (record.status !== null && FINAL_STATUSES.includes(record.status)) return record.status;
  if (record.upload === "receiving") {
    return now - record.lastSeenAt > UPLOAD_STALL_MS ? "interrupted" : "receiving";
  }
  // A failed upload without totals stopped early (client gone, queue down); one with totals was sealed.
  if (record.upload === "failed" && record.chunksTotal === null) return "interrupted";
  return record.chunksDone > 0 ? "running" : "queued";
}

export interface ImportProgress {
  rowsDone: number;
  /** Rows landed per second since the first chunk started; null before there is a rate. */
  rowsPerSecond: number | null;
  /** Seconds left at that rate; null while the total or the rate is unknown, 0 once finished. */
  etaSeconds: number | null;
}

export function progressOf(record: ImportRecord, now: number): ImportProgress {
  const rowsDone = record.rowsAccepted + record.rowsRejected;
  const since = record.startedAt ?? record.createdAt;
  const until = record.finishedAt ?? now;
  const seconds = (until - since) / 1000;
  const rowsPerSecond = rowsDone > 0 && seconds > 0 ? Math.round(rowsDone / seconds) : null;
  if (record.finishedAt !== null) return { rowsDone, rowsPerSecond, etaSeconds: 0 };
  const total = record.rowsTotal ?? null;
  const etaSeconds =
    total !== null && rowsPerSecond !== null && rowsPerSecond > 0
      ? Math.max(0, Math.ceil((total - rowsDone) / rowsPerSecond))
      : null;
  return { rowsDone, rowsPerSecond, etaSeconds };
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== "string" || value === "") return [];
  try {
    const parsed = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

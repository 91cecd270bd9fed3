// The import actor's messages. The edge cuts the CSV into chunks (the unit of accounting: each is counted
// once, by number) and publishes several consecutive chunks in one `chunks` message, so the warehouse writes
// them in one statement; when the whole body has been read it publishes one `seal` message with the totals
// (and the error that stopped the upload, if one did). All carry the import's settings, so whichever arrives
// first creates the import. A `chunk` message (one chunk) is still accepted.
import { z } from "zod";
import { EVENT_FIELDS } from "../events/fields.ts";
import { TENANT_ID } from "../tenants.ts";

/** Import ids: given by the client (`Idempotency-Key`, `?importId=`) or made by the edge (`imp_` + 24 hex). */
export const IMPORT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Rows (data lines, good or rejected) per chunk; a chunk may hold fewer when its message would be too big. */
export const CHUNK_ROWS = 500;

/** Chunks one `chunks` message carries at most (it is also bounded by the broker's message size). */
export const MAX_CHUNKS_PER_MESSAGE = 10;

/** Rejected rows whose details are kept (Postgres `import_errors` and the Redis copy); counts are always kept. */
export const MAX_STORED_ERRORS = 1000;

/** Default share of rejected rows above which an import ends `failed`. */
export const DEFAULT_MAX_REJECT_RATIO = 0.1;

export const importSettings = z.object({
  maxRejectRatio: z.number().min(0).max(1),
  fileName: z.string().max(256).nullable(),
  /** Epoch ms of the first upload attempt. */
  createdAt: z.number().int().nonnegative(),
  /** CSV header name → event field, as the client gave it (null: defaults only). */
  columnMapping: z.record(z.string(), z.string()).nullable(),
});
export type ImportSettings = z.infer<typeof importSettings>;

export const columnBindingSchema = z.object({
  field: z.enum(EVENT_FIELDS),
  /** The column's name in the file, used when a row is rejected. */
  header: z.string().max(512),
});

/** A row rejected before its values could be read (ragged, bad quoting, invalid UTF-8). */
export const rowRejectSchema = z.object({
  line: z.number().int().positive(),
  /** The column's header name, or "" when the row as a whole is at fault. */
  column: z.string().max(512),
  reason: z.string().max(1000),
  raw: z.string().max(1024),
});
export type RowReject = z.infer<typeof rowRejectSchema>;

/** `[line, value per column…]`: values in the order of `columns`. */
export type ImportRow = [number, ...string[]];

const MAX_VALUE_LENGTH = 1024;

/** A plain loop rather than a zod tuple: a message holds thousands of rows, and this check runs on each. */
function isImportRow(value: unknown): value is ImportRow {
  if (!Array.isArray(value) || value.length === 0) return false;
  const line = value[0];
  if (typeof line !== "number" || !Number.isInteger(line) || line <= 0) return false;
  for (let i = 1; i < value.length; i++) {
    const field = value[i];
    if (typeof field !== "string" || field.length > MAX_VALUE_LENGTH) return false;
  }
  return true;
}

const IMPORT_ROW_MESSAGE = `expected [line, value…]: a positive integer line, then strings of at most ${MAX_VALUE_LENGTH} characters`;

const tenantId = z.string().regex(TENANT_ID);
const importId = z.string().regex(IMPORT_ID);

/** 0-based, in file order. */
const chunkNumber = z.number().int().nonnegative();
/** A chunk's rows, checked in one pass (a schema per row costs more than the check itself); names the first bad row. */
const chunkRows = z
  .custom<ImportRow[]>(
    (value) => Array.isArray(value) && value.length <= CHUNK_ROWS,
    `expected an array of at most ${CHUNK_ROWS} rows`,
  )
  .superRefine((rows, ctx) => {
    const bad = rows.findIndex((row) => !isImportRow(row));
    if (bad >= 0) ctx.addIssue({ code: "custom", path: [bad], message: IMPORT_ROW_MESSAGE });
  });
const chunkRejects = z.array(rowRejectSchema).max(CHUNK_ROWS);
/** Which event field each column of the file's rows holds. */
const columnBindings = z.array(columnBindingSchema).min(1).max(EVENT_FIELDS.length);

export const importChunkMessage = z.object({
  kind: z.literal("chunk"),
  tenantId,
  importId,
  chunk: chunkNumber,
  settings: importSettings,
  columns: columnBindings,
  rows: chunkRows,
  rejects: chunkRejects,
});
export type ImportChunkMessage = z.infer<typeof importChunkMessage>;

export const importChunkPart = z.object({ chunk: chunkNumber, rows: chunkRows, rejects: chunkRejects });
export type ImportChunkPart = z.infer<typeof importChunkPart>;

/** Consecutive chunks of one import, written together; each is still counted once by its number. */
export const importChunksMessage = z.object({
  kind: z.literal("chunks"),
  tenantId,
  importId,
  settings: importSettings,
  columns: columnBindings,
  chunks: z.array(importChunkPart).min(1).max(MAX_CHUNKS_PER_MESSAGE),
});
export type ImportChunksMessage = z.infer<typeof importChunksMessage>;

export const importSealMessage = z.object({
  kind: z.literal("seal"),
  tenantId,
  importId,
  settings: importSettings,
  /** Chunks published for this upload; the import finishes once that many are done. */
  chunksTotal: z.number().int().nonnegative(),
  rowsTotal: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Why the upload stopped before the end of the file (the rows before it are kept); null when it did not. */
  error: z.string().max(1000).nullable(),
});
export type ImportSealMessage = z.infer<typeof importSealMessage>;

export const importMessage = z.discriminatedUnion("kind", [
  importChunkMessage,
  importChunksMessage,
  importSealMessage,
]);
export type ImportMessage = z.infer<typeof importMessage>;

/** The broker's deduplication id of a chunk (scoped by tenant: deduplication ids are account-wide). */
export function chunkDedupId(tenantId: string, importId: string, chunk: number): string {
  return `import:${tenantId}:${importId}:${chunk}`;
}

/**
 * The broker's deduplication id of a message carrying chunks `first` to `last`: a single chunk keeps its own
 * id; a run names both ends, so a run grouped differently (another edge version) is never taken for this one.
 */
export function chunksDedupId(tenantId: string, importId: string, first: number, last: number): string {
  const id = chunkDedupId(tenantId, importId, first);
  return first === last ? id : `${id}-${last}`;
}

export function sealDedupId(tenantId: string, importId: string): string {
  return `import:${tenantId}:${importId}:seal`;
}

/** A fresh import id: `imp_` and 24 hex digits. */
export function newImportId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `imp_${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

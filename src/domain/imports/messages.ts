// The import actor's messages. The edge cuts the CSV into chunks and publishes each as a `chunk` message; when
// the whole body has been read it publishes one `seal` message with the totals (and the error that stopped
// the upload, if one did). Both carry the import's settings, so whichever arrives first creates the import.
import { z } from "zod";
import { EVENT_FIELDS } from "../events/fields.ts";
import { TENANT_ID } from "../tenants.ts";

/** Import ids: given by the client (`Idempotency-Key`, `?importId=`) or made by the edge (`imp_` + 24 hex). */
export const IMPORT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Rows (data lines, good or rejected) per chunk; a chunk may hold fewer when its message would be too big. */
export const CHUNK_ROWS = 500;

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
export const importRowSchema = z.tuple([z.number().int().positive()], z.string().max(1024));
export type ImportRow = z.infer<typeof importRowSchema>;

const tenantId = z.string().regex(TENANT_ID);
const importId = z.string().regex(IMPORT_ID);

export const importChunkMessage = z.object({
  kind: z.literal("chunk"),
  tenantId,
  importId,
  /** 0-based, in file order; `<tenant>:<importId>:<chunk>` is its deduplication id at the broker. */
  chunk: z.number().int().nonnegative(),
  settings: importSettings,
  columns: z.array(columnBindingSchema).min(1).max(EVENT_FIELDS.length),
  rows: z.array(importRowSchema).max(CHUNK_ROWS),
  rejects: z.array(rowRejectSchema).max(CHUNK_ROWS),
});
export type ImportChunkMessage = z.infer<typeof importChunkMessage>;

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

export const importMessage = z.discriminatedUnion("kind", [importChunkMessage, importSealMessage]);
export type ImportMessage = z.infer<typeof importMessage>;

/** The broker's deduplication id of a chunk (scoped by tenant: deduplication ids are account-wide). */
export function chunkDedupId(tenantId: string, importId: string, chunk: number): string {
  return `import:${tenantId}:${importId}:${chunk}`;
}

export function sealDedupId(tenantId: string, importId: string): string {
  return `import:${tenantId}:${importId}:seal`;
}

/** A fresh import id: `imp_` and 24 hex digits. */
export function newImportId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `imp_${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

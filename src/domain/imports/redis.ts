// The import status record in Redis, read and written through the Upstash client, so the edge (Workers) and
// the import actor share one implementation. Postgres `imports` is the system of record; this is its serving
// copy plus the edge's upload progress (see status.ts).
import type { Redis } from "@upstash/redis";
import { keys } from "../keys.ts";
import { LuaScript } from "./lua-script.ts";
import type { RowReject } from "./messages.ts";
import { BEGIN_UPLOAD, PROJECT_IMPORT, UPDATE_UPLOAD } from "./scripts.ts";
import { type ImportRecord, type ImportStatus, importRecordFrom } from "./status.ts";

/** Import records, their errors and index entries live this long after their last change. */
export const IMPORT_TTL_SECONDS = 30 * 86_400;

export type ImportRedis = Pick<Redis, "evalsha" | "eval" | "hgetall" | "zrange" | "pipeline">;

const beginScript = new LuaScript(BEGIN_UPLOAD);
const updateScript = new LuaScript(UPDATE_UPLOAD);
const projectScript = new LuaScript(PROJECT_IMPORT);

export interface UploadStart {
  fileName: string | null;
  maxRejectRatio: number;
  ignoredColumns: readonly string[];
}

/** Marks an upload as started. `final` when the import had already ended: nothing changed then. */
export async function beginUpload(
  redis: ImportRedis,
  tenantId: string,
  importId: string,
  start: UploadStart,
  now = Date.now(),
): Promise<{ final: boolean; createdAt: number }> {
  const [final, createdAt] = await beginScript.run<[number, number]>(
    redis,
    [keys.importRecord(tenantId, importId), keys.imports(tenantId)],
    [
      importId,
      now,
      IMPORT_TTL_SECONDS,
      start.fileName ?? "",
      start.maxRejectRatio,
      JSON.stringify(start.ignoredColumns),
      now - IMPORT_TTL_SECONDS * 1000,
    ],
  );
  return { final: final === 1, createdAt: Number(createdAt) };
}

export type UploadFields = Partial<{
  upload: "receiving" | "received" | "failed";
  bytesReceived: number;
  rowsRead: number;
  chunksPublished: number;
  chunksTotal: number;
  rowsTotal: number;
  receivedAt: number;
  uploadError: string;
}>;

/** Writes upload fields (and refreshes `lastSeenAt`) unless the import has ended. */
export async function updateUpload(
  redis: ImportRedis,
  tenantId: string,
  importId: string,
  fields: UploadFields,
  now = Date.now(),
): Promise<boolean> {
  const pairs: (string | number)[] = ["lastSeenAt", now];
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) pairs.push(name, value);
  const written = await updateScript.run<number>(
    redis,
    [keys.importRecord(tenantId, importId)],
    [IMPORT_TTL_SECONDS, ...pairs],
  );
  return written === 1;
}

/** The actor's copy of the `imports` row. */
export interface ImportRowCopy {
  rev: number;
  status: ImportStatus;
  chunksTotal: number | null;
  chunksDone: number;
  rowsAccepted: number;
  rowsRejected: number;
  maxRejectRatio: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

/** Writes the row copy unless a newer one is there, and adds stored row errors; returns whether it was newer. */
export async function projectImport(
  redis: ImportRedis,
  tenantId: string,
  importId: string,
  copy: ImportRowCopy,
  errors: readonly RowReject[],
): Promise<boolean> {
  const fields: (string | number)[] = [
    "id",
    importId,
    "status",
    copy.status,
    "chunksDone",
    copy.chunksDone,
    "rowsAccepted",
    copy.rowsAccepted,
    "rowsRejected",
    copy.rowsRejected,
    "maxRejectRatio",
    copy.maxRejectRatio,
  ];
  const optional = {
    chunksTotal: copy.chunksTotal,
    startedAt: copy.startedAt,
    finishedAt: copy.finishedAt,
    error: copy.error,
  };
  for (const [name, value] of Object.entries(optional)) if (value !== null) fields.push(name, value);
  const members: (string | number)[] = [];
  for (const error of errors) members.push(error.line, errorMember(error));
  const applied = await projectScript.run<number>(
    redis,
    [keys.importRecord(tenantId, importId), keys.importErrors(tenantId, importId)],
    [copy.rev, IMPORT_TTL_SECONDS, fields.length / 2, ...fields, ...members],
  );
  return applied === 1;
}

/** One import of the tenant; null when there is none (or it belongs to another tenant: the key differs). */
export async function readImport(
  redis: ImportRedis,
  tenantId: string,
  importId: string,
): Promise<ImportRecord | null> {
  const record = importRecordFrom(await redis.hgetall(keys.importRecord(tenantId, importId)));
  // The id as asked for: the client may have turned a numeric-looking id into a number.
  return record && { ...record, id: importId };
}

/** A page of the tenant's imports, newest first; `before` is the previous page's last `createdAt`. */
export async function listImports(
  redis: ImportRedis,
  tenantId: string,
  limit: number,
  before?: number,
): Promise<ImportRecord[]> {
  const max = before === undefined ? ("+inf" as const) : (`(${before}` as `(${number}`);
  const ids = (await redis.zrange(keys.imports(tenantId), max, "-inf", {
    byScore: true,
    rev: true,
    offset: 0,
    count: limit,
  })) as unknown[];
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.importRecord(tenantId, String(id)));
  const hashes = (await pipeline.exec()) as (Record<string, unknown> | null)[];
  return hashes
    .map((hash, i) => {
      const record = importRecordFrom(hash);
      return record && { ...record, id: String(ids[i]) };
    })
    .filter((record): record is ImportRecord => record !== null);
}

/** Stored row errors after line `afterLine`, by line. */
export async function readImportErrors(
  redis: ImportRedis,
  tenantId: string,
  importId: string,
  afterLine: number,
  limit: number,
): Promise<RowReject[]> {
  const members = (await redis.zrange(
    keys.importErrors(tenantId, importId),
    `(${afterLine}` as `(${number}`,
    "+inf",
    {
      byScore: true,
      offset: 0,
      count: limit,
    },
  )) as unknown[];
  return members.map(errorFromMember).filter((error): error is RowReject => error !== null);
}

/** Error members are JSON arrays `[line, column, reason, raw]`: one member per line. */
function errorMember(error: RowReject): string {
  return JSON.stringify([error.line, error.column, error.reason, error.raw]);
}

function errorFromMember(member: unknown): RowReject | null {
  // The client turns JSON-looking members into values already; a plain string is parsed here.
  let value = member;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!Array.isArray(value) || value.length < 4) return null;
  const [line, column, reason, raw] = value as [unknown, unknown, unknown, unknown];
  return { line: Number(line), column: String(column), reason: String(reason), raw: String(raw) };
}

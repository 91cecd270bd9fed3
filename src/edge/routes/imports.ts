// CSV imports: POST /v1/imports streams a CSV body (optionally gzip) into 500-row chunks queued for the import
// actor and answers 202 once the whole body is read and queued; GET /v1/imports/:id shows progress,
// /v1/imports/:id/errors pages through rejected rows (JSON or CSV), GET /v1/imports lists the tenant's imports.
// The import id comes from `Idempotency-Key` or `?importId=` (else one is made): uploading the same file again
// under the same id adds nothing. Import ids are looked up under the caller's tenant only.
import type { Context, Hono } from "hono";
import { type ColumnMapping, parseColumnMapping } from "../../domain/imports/columns.ts";
import {
  DEFAULT_MAX_REJECT_RATIO,
  IMPORT_ID,
  MAX_STORED_ERRORS,
  newImportId,
} from "../../domain/imports/messages.ts";
import { listImports, readImport, readImportErrors } from "../../domain/imports/redis.ts";
import { FINAL_STATUSES } from "../../domain/imports/status.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { runUpload, UploadInterrupted, UploadRefused } from "../imports/upload.ts";
import { errorsCsv, errorView, INLINE_ERRORS, importView } from "../imports/views.ts";
import { redisReply, tenantAuth } from "../middleware/tenant-auth.ts";

const CSV_TYPES = new Set(["text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"]);
const GZIP_TYPES = new Set(["application/gzip", "application/x-gzip"]);
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export function registerImports(app: Hono<EdgeEnv>, services: EdgeServices): void {
  app.post("/v1/imports", tenantAuth(services), async (c) => {
    const publisher = services.publisher;
    if (!publisher) throw new ApiError(503, "imports_unavailable", "Imports are not configured (no QStash)");
    const tenantId = c.get("tenant").id;
    const options = readUploadOptions(c);
    const body = c.req.raw.body;
    if (body === null)
      throw refusal("empty_file", "body", "the body is empty: send the CSV file as the body");

    const existing = await redisReply(readImport(services.redis, tenantId, options.importId));
    if (existing?.status && FINAL_STATUSES.includes(existing.status)) {
      await body.cancel().catch(() => {});
      c.header("Location", `/v1/imports/${options.importId}`);
      return c.json({ ...importView(existing, Date.now()), duplicate: true }, 200);
    }

    let outcome: Awaited<ReturnType<typeof runUpload>>;
    try {
      outcome = await runUpload(
        { redis: services.redis, publisher },
        {
          tenantId,
          importId: options.importId,
          body,
          gzip: options.gzip,
          mapping: options.mapping,
          settings: {
            fileName: options.fileName,
            maxRejectRatio: options.maxRejectRatio,
            columnMapping: Object.keys(options.mapping).length > 0 ? { ...options.mapping } : null,
          },
        },
      );
    } catch (error) {
      throw uploadError(error, options.importId);
    }
    c.header("Location", `/v1/imports/${options.importId}`);
    if (outcome.alreadyFinished) {
      const record = await redisReply(readImport(services.redis, tenantId, options.importId));
      return c.json(
        { ...(record ? importView(record, Date.now()) : { id: options.importId }), duplicate: true },
        200,
      );
    }
    return c.json(
      {
        id: options.importId,
        status: "queued",
        chunks: outcome.chunksTotal,
        rows: outcome.rowsTotal,
        bytes: outcome.bytes,
        ignoredColumns: outcome.ignoredColumns,
        links: { self: `/v1/imports/${options.importId}`, errors: `/v1/imports/${options.importId}/errors` },
      },
      202,
    );
  });

  app.get("/v1/imports", tenantAuth(services), async (c) => {
    const limit = readLimit(c.req.query("limit"), 20, 100);
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before)) {
      throw refusal("invalid_request", "cursor", "cursor must be the nextCursor of the previous page");
    }
    const records = await redisReply(listImports(services.redis, c.get("tenant").id, limit + 1, before));
    const page = records.slice(0, limit);
    const now = Date.now();
    const last = page[page.length - 1];
    return c.json({
      imports: page.map((record) => importView(record, now)),
      nextCursor: records.length > limit && last ? String(last.createdAt) : null,
    });
  });

  app.get("/v1/imports/:id", tenantAuth(services), async (c) => {
    const tenantId = c.get("tenant").id;
    const id = importIdParam(c);
    const [record, errors] = await redisReply(
      Promise.all([
        readImport(services.redis, tenantId, id),
        readImportErrors(services.redis, tenantId, id, 0, INLINE_ERRORS),
      ]),
    );
    if (!record) throw importNotFound(id);
    return c.json(importView(record, Date.now(), errors));
  });

  app.get("/v1/imports/:id/errors", tenantAuth(services), async (c) => {
    const tenantId = c.get("tenant").id;
    const id = importIdParam(c);
    const csv = c.req.query("format") === "csv" || (c.req.header("accept") ?? "").includes("text/csv");
    const format = c.req.query("format");
    if (format !== undefined && format !== "csv" && format !== "json") {
      throw refusal("invalid_request", "format", "format must be json or csv");
    }
    const limit = readLimit(c.req.query("limit"), csv ? MAX_PAGE : DEFAULT_PAGE, MAX_PAGE);
    const rawCursor = c.req.query("cursor");
    const after = rawCursor === undefined ? 0 : Number(rawCursor);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw refusal("invalid_request", "cursor", "cursor must be the nextCursor of the previous page");
    }
    const [record, errors] = await redisReply(
      Promise.all([
        readImport(services.redis, tenantId, id),
        readImportErrors(services.redis, tenantId, id, after, limit + 1),
      ]),
    );
    if (!record) throw importNotFound(id);
    const page = errors.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor = errors.length > limit && last ? String(last.line) : null;
    if (csv) {
      if (nextCursor !== null) {
        c.header(
          "Link",
          `</v1/imports/${id}/errors?format=csv&cursor=${nextCursor}&limit=${limit}>; rel="next"`,
        );
      }
      c.header("Content-Type", "text/csv; charset=utf-8");
      c.header("Content-Disposition", `attachment; filename="${id}-errors.csv"`);
      return c.body(errorsCsv(page, after === 0));
    }
    return c.json({
      importId: id,
      rowsRejected: record.rowsRejected,
      // Details are kept for the first rejected rows only; the count covers all of them.
      stored: Math.min(record.rowsRejected, MAX_STORED_ERRORS),
      errors: page.map(errorView),
      nextCursor,
    });
  });
}

interface UploadOptions {
  importId: string;
  gzip: boolean;
  mapping: ColumnMapping;
  fileName: string | null;
  maxRejectRatio: number;
}

function readUploadOptions(c: Context<EdgeEnv>): UploadOptions {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const encoding = (c.req.header("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    throw new ApiError(415, "unsupported_media_type", "Content-Encoding must be gzip or absent");
  }
  const gzipType = GZIP_TYPES.has(type);
  if (!gzipType && !CSV_TYPES.has(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Send the file as text/csv (or application/gzip for a gzipped CSV)",
    );
  }

  const given = c.req.header("idempotency-key") ?? c.req.query("importId");
  const field = c.req.header("idempotency-key") !== undefined ? "Idempotency-Key" : "importId";
  if (given !== undefined && !IMPORT_ID.test(given)) {
    throw refusal("invalid_request", field, "must be 1 to 64 letters, digits, '.', '_' or '-'");
  }

  const mapping = parseColumnMapping(c.req.query("columns") ?? c.req.header("fairway-columns"));
  if (!mapping.ok) throw refusal("invalid_request", mapping.field, mapping.message);

  const rawRatio = c.req.query("maxRejectRatio");
  const maxRejectRatio = rawRatio === undefined ? DEFAULT_MAX_REJECT_RATIO : Number(rawRatio);
  if (rawRatio !== undefined && (rawRatio.trim() === "" || !(maxRejectRatio >= 0 && maxRejectRatio <= 1))) {
    throw refusal("invalid_request", "maxRejectRatio", "must be a number from 0 to 1");
  }

  const fileName = c.req.query("fileName") ?? fileNameOf(c.req.header("content-disposition"));
  if (fileName !== null && fileName.length > 256) {
    throw refusal("invalid_request", "fileName", "must be at most 256 characters");
  }
  return {
    importId: given ?? newImportId(),
    gzip: gzipType || encoding === "gzip",
    mapping: mapping.value,
    fileName,
    maxRejectRatio,
  };
}

function fileNameOf(disposition: string | undefined): string | null {
  const match = disposition === undefined ? null : /filename="?([^";]+)"?/i.exec(disposition);
  return match?.[1] ?? null;
}

function readLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw refusal("invalid_request", "limit", `must be an integer from 1 to ${max}`);
  }
  return value;
}

function importIdParam(c: Context<EdgeEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!IMPORT_ID.test(id)) throw importNotFound(id);
  return id;
}

function importNotFound(id: string): ApiError {
  return new ApiError(404, "import_not_found", `No import ${JSON.stringify(id.slice(0, 64))}`);
}

function refusal(code: string, field: string, message: string): ApiError {
  return new ApiError(400, code, `${field}: ${message}`, { fields: [{ field, message }] });
}

/** Upload failures as the client sees them: what was wrong, and what became of the import. */
function uploadError(error: unknown, importId: string): unknown {
  if (error instanceof UploadRefused) {
    const where = error.line === undefined ? {} : { line: error.line };
    const message = error.queued
      ? `${error.message}; the rows before it were queued and the import ends failed`
      : error.message;
    return new ApiError(400, error.code, message, {
      fields: [{ field: error.field, message: error.message }],
      ...where,
      ...(error.queued ? { importId, status: "failed" } : {}),
    });
  }
  if (error instanceof UploadInterrupted) {
    return new ApiError(
      error.brokerDown ? 503 : 400,
      error.brokerDown ? "queue_unavailable" : "upload_interrupted",
      `${error.message}; upload the file again with the same Idempotency-Key (${importId}) to resume`,
      { importId },
    );
  }
  return error;
}

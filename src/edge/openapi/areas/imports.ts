// CSV imports in the OpenAPI document. The import id and row-error shapes are the import messages' own; the
// parameters are bounded by the same constants the route checks against.
import { z } from "zod";
import { EVENT_FIELDS } from "../../../domain/events/index.ts";
import {
  DEFAULT_MAX_REJECT_RATIO,
  IMPORT_ID,
  MAX_STORED_ERRORS,
  rowRejectSchema,
} from "../../../domain/imports/messages.ts";
import { IMPORT_STATUSES } from "../../../domain/imports/status.ts";
import { type DocArea, TENANT_ERRORS } from "../document.ts";

const importId = z.string().regex(IMPORT_ID);
const iso = z.string().meta({ format: "date-time" }).nullable();
const links = z.object({ self: z.string(), errors: z.string() });
const rowError = rowRejectSchema.meta({ description: "A rejected CSV row: its line, column and reason" });

export const importView = z.object({
  id: importId,
  status: z
    .union([z.enum(IMPORT_STATUSES), z.enum(["receiving", "interrupted"])])
    .meta({ description: "`receiving` while the file uploads; `interrupted` if the upload stopped" }),
  fileName: z.string().nullable(),
  createdAt: iso,
  startedAt: iso,
  finishedAt: iso,
  upload: z.object({
    state: z.string(),
    bytes: z.number().int(),
    rowsRead: z.number().int(),
    chunksQueued: z.number().int(),
    receivedAt: iso,
    error: z.string().nullable(),
  }),
  chunks: z.object({ total: z.number().int().nullable(), done: z.number().int() }),
  rows: z.object({
    total: z.number().int().nullable(),
    accepted: z.number().int(),
    rejected: z.number().int(),
    done: z.number().int(),
  }),
  rowsPerSecond: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  maxRejectRatio: z.number(),
  ignoredColumns: z.array(z.string()),
  error: z.string().nullable(),
  errors: z.array(rowError).optional().meta({ description: "The first rejected rows (GET of one import)" }),
  duplicate: z
    .boolean()
    .optional()
    .meta({ description: "This import id had finished before: nothing added" }),
  links,
});

export const importAccepted = z.object({
  id: importId,
  status: z.literal("queued"),
  chunks: z.number().int(),
  rows: z.number().int(),
  bytes: z.number().int(),
  ignoredColumns: z.array(z.string()),
  links,
});

export const importList = z.object({
  imports: z.array(importView),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page" }),
});

export const importErrors = z.object({
  importId,
  rowsRejected: z.number().int(),
  stored: z
    .number()
    .int()
    .meta({ description: `Details are kept for the first ${MAX_STORED_ERRORS} rows` }),
  errors: z.array(rowError),
  nextCursor: z.string().nullable(),
});

const ID = { name: "id", in: "path" as const, required: true, description: "Import id", schema: importId };
const limit = (fallback: string, max: number) => ({
  name: "limit",
  in: "query" as const,
  description: `Page size (default ${fallback})`,
  schema: z.number().int().min(1).max(max),
});
const CURSOR = {
  name: "cursor",
  in: "query" as const,
  description: "The `nextCursor` of the previous page",
  schema: z.string(),
};
const NOT_FOUND = { 404: { description: "No such import for this tenant", schema: "Error" } };

export const importsDocs: DocArea = {
  components: {
    Import: importView,
    ImportAccepted: importAccepted,
    ImportList: importList,
    ImportErrors: importErrors,
  },
  operations: [
    {
      method: "post",
      path: "/v1/imports",
      summary: "Import a CSV file of events",
      description:
        "The body is the file (`text/csv`, or gzip: `application/gzip` or `Content-Encoding: gzip`); its header " +
        `row names the columns (${EVENT_FIELDS.join(", ")}). It is queued in 500-row chunks and answered once ` +
        "read whole. The same file under the same `Idempotency-Key` adds nothing: a finished import answers 200 " +
        "with `duplicate: true`, an interrupted one resumes.",
      tags: ["imports"],
      security: "tenant",
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          description: "The import id (also `?importId=`); one is made when absent",
          schema: importId,
        },
        {
          name: "importId",
          in: "query",
          description: "The import id, as `Idempotency-Key`",
          schema: importId,
        },
        {
          name: "columns",
          in: "query",
          description:
            'CSV column → event field: `"Event Time:ts,Type:kind"` or a JSON object (also `Fairway-Columns`)',
          schema: z.string(),
        },
        {
          name: "maxRejectRatio",
          in: "query",
          description: `Share of rejected rows above which the import fails (default ${DEFAULT_MAX_REJECT_RATIO})`,
          schema: z.number().min(0).max(1),
        },
        {
          name: "fileName",
          in: "query",
          description: "Shown in the import (else from Content-Disposition)",
          schema: z.string().max(256),
        },
      ],
      requestBody: { "text/csv": null, "application/gzip": null },
      responses: {
        200: { description: "This import had finished before", schema: "Import", headers: ["Location"] },
        202: { description: "Read and queued", schema: "ImportAccepted", headers: ["Location"] },
        400: {
          description: "A bad parameter or file (`fields` names it); `line` when a row is at fault",
          schema: "Error",
        },
        415: { description: "Not CSV or gzip", schema: "Error" },
        ...TENANT_ERRORS,
      },
    },
    {
      method: "get",
      path: "/v1/imports",
      summary: "The tenant's imports, newest first",
      tags: ["imports"],
      security: "tenant",
      parameters: [limit("20", 100), CURSOR],
      responses: {
        200: { description: "A page of imports", schema: "ImportList" },
        400: { description: "A bad limit or cursor", schema: "Error" },
        ...TENANT_ERRORS,
      },
    },
    {
      method: "get",
      path: "/v1/imports/{id}",
      summary: "An import's progress, with its first rejected rows",
      tags: ["imports"],
      security: "tenant",
      parameters: [ID],
      responses: { 200: { description: "The import", schema: "Import" }, ...NOT_FOUND, ...TENANT_ERRORS },
    },
    {
      method: "get",
      path: "/v1/imports/{id}/errors",
      summary: "An import's rejected rows, page by page, as JSON or CSV",
      tags: ["imports"],
      security: "tenant",
      parameters: [
        ID,
        {
          name: "format",
          in: "query",
          description: "`csv` (also `Accept: text/csv`) or `json` (default)",
          schema: z.enum(["json", "csv"]),
        },
        limit("100; 1000 for CSV", 1000),
        CURSOR,
      ],
      responses: {
        200: {
          description: "JSON page (CSV: `line,column,reason,raw`, next page in `Link`)",
          schema: "ImportErrors",
          headers: ["Link"],
        },
        400: { description: "A bad format, limit or cursor", schema: "Error" },
        ...NOT_FOUND,
        ...TENANT_ERRORS,
      },
    },
  ],
};

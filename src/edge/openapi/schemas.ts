// Response shapes, as zod schemas: the OpenAPI document is generated from these and from the request schemas
// the routes validate with (the semantic query's own schema, the admin bodies).
import { z } from "zod";
import { querySchema } from "../../domain/query/schema.ts";
import { CACHE_MODES } from "../services/query-request.ts";

export const fieldError = z.object({
  field: z
    .string()
    .meta({ description: "Where the problem is, e.g. `filters[0].member`; `body` for the whole body" }),
  message: z.string(),
});

export const errorResponse = z
  .object({
    error: z
      .object({
        code: z.string().meta({ description: "Stable machine code, e.g. `invalid_query`, `rate_limited`" }),
        message: z.string(),
        requestId: z.string().meta({ description: "Also in the `x-request-id` header" }),
        fields: z.array(fieldError).optional(),
        queryId: z.string().optional(),
      })
      .catchall(z.unknown()),
  })
  .meta({ description: "Every error, whatever its status" });

export const queryRequest = querySchema
  .extend({
    cache: z
      .enum(CACHE_MODES)
      .optional()
      .meta({
        description:
          "`default`: a fresh cached answer if there is one (same data version, within the TTL), else compute. " +
          "`no-cache`: always compute (identical concurrent requests still share one computation). " +
          '`stale-while-revalidate`: answer a stale entry at once (`meta.cache = "stale"`) and refresh it once.',
      }),
  })
  .meta({ description: "A semantic query (measures, dimensions, time dimension, filters, order, limit…)" });

const resultValue = z.union([z.string(), z.number(), z.null()]);

export const queryResult = z.object({
  data: z
    .array(z.record(z.string(), resultValue))
    .meta({ description: "One object per row, keyed by member" }),
  meta: z.object({
    cache: z.enum(["hit", "miss", "stale"]),
    queryId: z.string().meta({ description: "The computation that produced the rows" }),
    dataVersion: z.number().int().meta({ description: "The tenant's data version the rows reflect" }),
    computedAt: z.string().meta({ format: "date-time" }),
    durationMs: z.number().meta({ description: "Warehouse time of the SQL" }),
    source: z.string().meta({ description: "The table that answered: raw events or a rollup" }),
    rowCount: z.number().int(),
    columns: z.array(z.string()),
  }),
});

export const queryAccepted = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "running"]),
    position: z.number().int().positive().optional().meta({ description: "Place in the tenant's queue" }),
  })
  .meta({
    description: "Not done within `wait`: poll `Location` (GET /v1/queries/{id}) after `Retry-After`",
  });

const member = z.object({
  name: z.string(),
  type: z.string(),
  title: z.string(),
  description: z.string(),
  formula: z.string().optional(),
});

export const catalogue = z.object({
  measures: z.array(member),
  dimensions: z.array(member),
  timeDimensions: z.array(member.extend({ granularities: z.array(z.string()) })),
});

const limits = z.object({
  concurrencyLimit: z.number().int(),
  rateLimit: z.number().int(),
  rateLimitWindowSeconds: z.number().int(),
});

export const tenant = z.object({
  id: z.string(),
  name: z.string(),
  limits,
  disabled: z.boolean(),
  createdAt: z.string().meta({ format: "date-time" }),
  revision: z.number().int(),
});

export const tenantWithKey = tenant
  .extend({ apiKey: z.string().meta({ description: "Shown here once; Fairway keeps only its SHA-256" }) })
  .meta({ description: "A tenant and its API key" });

export const tenantList = z.object({ tenants: z.array(tenant) });

export const health = z.object({
  status: z.enum(["ok", "degraded"]),
  redis: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
  postgres: z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() }),
});

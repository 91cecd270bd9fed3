// Operator endpoints for tenants: create (the API key is shown once), list, change limits, rotate the key.
import type { Context, Hono } from "hono";
import { z } from "zod";
import { LIMIT_BOUNDS, TENANT_ID, type TenantRecord } from "../../domain/tenants.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError, type FieldError } from "../errors.ts";
import { operatorAuth } from "../middleware/operator-auth.ts";
import { readJsonBody } from "../services/json-body.ts";
import { TenantStore } from "../services/tenant-store.ts";

const ADMIN_BODY_BYTES = 16 * 1024;

const tenantName = z
  .string({ error: "must be a string" })
  .trim()
  .min(1, { error: "must not be empty" })
  .max(200, { error: "must be at most 200 characters" });

export const createTenantBody = z.strictObject({
  name: tenantName,
  concurrencyLimit: LIMIT_BOUNDS.concurrencyLimit.optional(),
  rateLimit: LIMIT_BOUNDS.rateLimit.optional(),
  rateLimitWindowSeconds: LIMIT_BOUNDS.rateLimitWindowSeconds.optional(),
});

export const updateTenantBody = z.strictObject({
  name: tenantName.optional(),
  concurrencyLimit: LIMIT_BOUNDS.concurrencyLimit.optional(),
  rateLimit: LIMIT_BOUNDS.rateLimit.optional(),
  rateLimitWindowSeconds: LIMIT_BOUNDS.rateLimitWindowSeconds.optional(),
  disabled: z.boolean({ error: "must be true or false" }).optional(),
});

/** A tenant as the operator sees it (never the key hash). */
export function tenantView(record: TenantRecord) {
  return {
    id: record.id,
    name: record.name,
    limits: {
      concurrencyLimit: record.concurrencyLimit,
      rateLimit: record.rateLimit,
      rateLimitWindowSeconds: record.rateLimitWindowSeconds,
    },
    disabled: record.disabledAt !== null,
    createdAt: new Date(record.createdAt).toISOString(),
    revision: record.revision,
  };
}

export function registerAdminTenants(app: Hono<EdgeEnv>, services: EdgeServices): void {
  const guard = operatorAuth(services);
  const store = () => {
    if (!services.publisher) {
      throw new ApiError(
        503,
        "publisher_not_configured",
        "Tenant changes need QStash: QSTASH_TOKEN is not configured",
      );
    }
    return new TenantStore(services.redis, services.publisher);
  };

  app.post("/admin/tenants", guard, async (c) => {
    const body = validate(createTenantBody, await readJsonBody(c, ADMIN_BODY_BYTES));
    const { name, ...limits } = body;
    const { record, apiKey } = await store().create(name, limits);
    c.header("Location", `/admin/tenants/${record.id}`);
    return c.json({ ...tenantView(record), apiKey }, 201);
  });

  app.get("/admin/tenants", guard, async (c) => {
    const tenants = await store().list();
    return c.json({ tenants: tenants.map(tenantView) });
  });

  app.get("/admin/tenants/:id", guard, async (c) => {
    const record = await store().get(tenantIdParam(c));
    if (!record) throw tenantNotFound(c);
    return c.json(tenantView(record));
  });

  app.patch("/admin/tenants/:id", guard, async (c) => {
    const id = tenantIdParam(c);
    const change = validate(updateTenantBody, await readJsonBody(c, ADMIN_BODY_BYTES));
    if (Object.keys(change).length === 0) {
      throw new ApiError(400, "invalid_request", "Nothing to change", {
        fields: [
          {
            field: "body",
            message:
              "give at least one of name, concurrencyLimit, rateLimit, rateLimitWindowSeconds, disabled",
          },
        ],
      });
    }
    const record = await store().update(id, change);
    if (!record) throw tenantNotFound(c);
    return c.json(tenantView(record));
  });

  app.post("/admin/tenants/:id/rotate-key", guard, async (c) => {
    const rotated = await store().rotateKey(tenantIdParam(c));
    if (!rotated) throw tenantNotFound(c);
    return c.json({ ...tenantView(rotated.record), apiKey: rotated.apiKey });
  });
}

function tenantIdParam(c: Context<EdgeEnv>): string {
  const id = c.req.param("id") ?? "";
  if (!TENANT_ID.test(id)) throw tenantNotFound(c);
  return id;
}

function tenantNotFound(c: Context<EdgeEnv>): ApiError {
  return new ApiError(404, "tenant_not_found", `No tenant ${JSON.stringify(c.req.param("id"))}`);
}

/** Parses with a zod schema; a failure is a 400 naming every field at fault. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fields: FieldError[] = parsed.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ field: [...issue.path, key].join("."), message: "unknown field" }))
      : [{ field: issue.path.join(".") || "body", message: issue.message }],
  );
  const first = fields[0] as FieldError;
  throw new ApiError(400, "invalid_request", `${first.field}: ${first.message}`, { fields });
}

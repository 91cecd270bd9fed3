// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with (zod's own JSON
// Schema export: the semantic query's filters are recursive, which @hono/zod-openapi's generator cannot walk).
import { z } from "zod";
import { filterNodeSchema } from "../../domain/query/schema.ts";
import { createTenantBody, updateTenantBody } from "../routes/admin-tenants.ts";
import * as schemas from "./schemas.ts";

/** One operation, as a route module describes it. */
export interface OperationDoc {
  method: "get" | "post" | "patch" | "put" | "delete";
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: "tenant" | "operator";
  parameters?: {
    name: string;
    in: "query" | "path" | "header";
    description: string;
    /** JSON Schema, or the zod schema the route checks the parameter with. */
    schema: object | z.ZodType;
    required?: boolean;
  }[];
  /** A component name (sent as JSON), or media type → component name (`null`: an opaque body, e.g. CSV). */
  requestBody?: string | Record<string, string | null>;
  responses: Record<number, { description: string; schema?: string; headers?: string[]; mediaType?: string }>;
}

/** One area's operations and the named schemas they refer to, kept next to that area's routes. */
export interface DocArea {
  operations: readonly OperationDoc[];
  components?: Record<string, z.ZodType>;
}

/** Named schemas; operations refer to them by name. */
const COMPONENTS: Record<string, z.ZodType> = {
  Error: schemas.errorResponse,
  Filter: filterNodeSchema,
  QueryRequest: schemas.queryRequest,
  QueryResult: schemas.queryResult,
  QueryAccepted: schemas.queryAccepted,
  Catalogue: schemas.catalogue,
  Health: schemas.health,
  Tenant: schemas.tenant,
  TenantWithKey: schemas.tenantWithKey,
  TenantList: schemas.tenantList,
  CreateTenant: createTenantBody,
  UpdateTenant: updateTenantBody,
};

const HEADERS: Record<string, { description: string; schema: object }> = {
  "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer" } },
  Location: { description: "Where to poll the query or import", schema: { type: "string" } },
  Link: { description: 'The next page, `rel="next"`', schema: { type: "string" } },
  "RateLimit-Limit": { description: "Requests allowed per window", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Requests left in this window", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window resets", schema: { type: "integer" } },
  "Fairway-Refresh-Query": {
    description: "With a stale answer: the id of the computation refreshing it",
    schema: { type: "string" },
  },
};

export const RATE_LIMIT_HEADERS = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];
export const TENANT_ERRORS = {
  401: { description: "Missing or invalid API key", schema: "Error" },
  403: { description: "The tenant is disabled", schema: "Error" },
  429: {
    description: "Over the tenant's rate limit",
    schema: "Error",
    headers: ["Retry-After", ...RATE_LIMIT_HEADERS],
  },
  503: { description: "Redis or QStash did not answer; try again", schema: "Error" },
};
export const OPERATOR_ERRORS = {
  401: { description: "Missing or wrong operator token", schema: "Error" },
  503: { description: "No operator token configured, or QStash not configured", schema: "Error" },
};
const WAIT = {
  name: "wait",
  in: "query" as const,
  description: "How long to wait for the result: `2s`, `500ms`, or seconds (default 2s, at most 25s)",
  schema: { type: "string", example: "2s" },
};
const TENANT_ID = {
  name: "id",
  in: "path" as const,
  required: true,
  description: "Tenant id",
  schema: { type: "string" },
};

export const OPERATIONS: OperationDoc[] = [
  {
    method: "post",
    path: "/v1/queries",
    summary: "Run a semantic query",
    description:
      "Answers from the cache when it can (one Redis round trip). Otherwise the query is computed once for " +
      "every identical request (single-flight) in the tenant's own lane, and the answer comes back when it is " +
      "ready within `wait`; if not, 202 with the query id to poll.",
    tags: ["queries"],
    security: "tenant",
    parameters: [WAIT],
    requestBody: "QueryRequest",
    responses: {
      200: {
        description: "The rows",
        schema: "QueryResult",
        headers: RATE_LIMIT_HEADERS.concat("Fairway-Refresh-Query"),
      },
      202: { description: "Still computing", schema: "QueryAccepted", headers: ["Location", "Retry-After"] },
      400: { description: "Invalid query, cache mode or wait; `fields` names each problem", schema: "Error" },
      413: { description: "Body larger than 64 KiB", schema: "Error" },
      422: {
        description: "The warehouse could not answer (e.g. statement timeout); not cached",
        schema: "Error",
      },
      ...TENANT_ERRORS,
    },
  },
  {
    method: "get",
    path: "/v1/queries/{id}",
    summary: "Poll a query",
    description:
      "Waits up to `wait` for the query to finish. Reading never consumes the result: every poller gets it. " +
      "Ids are looked up under the caller's tenant only.",
    tags: ["queries"],
    security: "tenant",
    parameters: [
      { name: "id", in: "path", required: true, description: "Query id", schema: { type: "string" } },
      WAIT,
    ],
    responses: {
      200: { description: "The rows", schema: "QueryResult" },
      202: { description: "Still computing", schema: "QueryAccepted", headers: ["Location", "Retry-After"] },
      404: { description: "No such query for this tenant", schema: "Error" },
      410: { description: "Done, but the result has left the cache: send the query again", schema: "Error" },
      422: { description: "The query failed", schema: "Error" },
      ...TENANT_ERRORS,
    },
  },
  {
    method: "get",
    path: "/v1/queries/{id}/events",
    summary: "Follow a query as server-sent events",
    description:
      "`status` events ({id, status, position?}) while the query waits or runs, then one `result` (the 200 body " +
      "of POST /v1/queries) or `error` ({code, message, queryId}) event, and the stream ends; at most 25 s.",
    tags: ["queries"],
    security: "tenant",
    parameters: [
      { name: "id", in: "path", required: true, description: "Query id", schema: { type: "string" } },
    ],
    responses: {
      200: { description: "The event stream", mediaType: "text/event-stream" },
      404: { description: "No such query for this tenant", schema: "Error" },
      ...TENANT_ERRORS,
    },
  },
  {
    method: "get",
    path: "/v1/meta",
    summary: "The query catalogue: measures, dimensions, time granularities",
    tags: ["queries"],
    security: "tenant",
    responses: { 200: { description: "The catalogue", schema: "Catalogue" }, ...TENANT_ERRORS },
  },
  {
    method: "post",
    path: "/admin/tenants",
    summary: "Create a tenant (its API key is shown once)",
    tags: ["admin"],
    security: "operator",
    requestBody: "CreateTenant",
    responses: {
      201: { description: "Created", schema: "TenantWithKey", headers: ["Location"] },
      400: { description: "Invalid body", schema: "Error" },
      ...OPERATOR_ERRORS,
    },
  },
  {
    method: "get",
    path: "/admin/tenants",
    summary: "List tenants",
    tags: ["admin"],
    security: "operator",
    responses: { 200: { description: "Every tenant", schema: "TenantList" }, ...OPERATOR_ERRORS },
  },
  {
    method: "get",
    path: "/admin/tenants/{id}",
    summary: "One tenant",
    tags: ["admin"],
    security: "operator",
    parameters: [TENANT_ID],
    responses: {
      200: { description: "The tenant", schema: "Tenant" },
      404: { description: "No such tenant", schema: "Error" },
      ...OPERATOR_ERRORS,
    },
  },
  {
    method: "patch",
    path: "/admin/tenants/{id}",
    summary: "Change a tenant's name, limits, or disable it",
    tags: ["admin"],
    security: "operator",
    parameters: [TENANT_ID],
    requestBody: "UpdateTenant",
    responses: {
      200: { description: "The changed tenant", schema: "Tenant" },
      400: { description: "Invalid body", schema: "Error" },
      404: { description: "No such tenant", schema: "Error" },
      ...OPERATOR_ERRORS,
    },
  },
  {
    method: "post",
    path: "/admin/tenants/{id}/rotate-key",
    summary: "Issue a new API key; the old one stops working at once",
    tags: ["admin"],
    security: "operator",
    parameters: [TENANT_ID],
    responses: {
      200: { description: "The tenant and its new key", schema: "TenantWithKey" },
      404: { description: "No such tenant", schema: "Error" },
      ...OPERATOR_ERRORS,
    },
  },
  {
    method: "get",
    path: "/health",
    summary: "Redis and Postgres reachability",
    tags: ["operations"],
    responses: {
      200: { description: "Both answer", schema: "Health" },
      503: { description: "One is down", schema: "Health" },
    },
  },
];

/** Builds the document; `areas` are the other route modules' descriptions. */
export function openApiDocument(areas: readonly DocArea[] = []) {
  const components: Record<string, z.ZodType> = { ...COMPONENTS };
  for (const area of areas) {
    for (const [name, schema] of Object.entries(area.components ?? {})) {
      if (name in components && components[name] !== schema)
        throw new Error(`OpenAPI component ${name} twice`);
      components[name] = schema;
    }
  }
  const ref = (name: string): { $ref: string } => {
    if (!(name in components)) throw new Error(`no OpenAPI component ${name}`);
    return { $ref: `#/components/schemas/${name}` };
  };
  const content = (body: Record<string, string | null>) =>
    Object.fromEntries(
      Object.entries(body).map(([type, name]) => [
        type,
        { schema: name === null ? { type: "string" } : ref(name) },
      ]),
    );
  const operations = [...OPERATIONS, ...areas.flatMap((area) => area.operations)];
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    const operation = paths[op.path] as Record<string, unknown>;
    if (op.method in operation) throw new Error(`OpenAPI operation ${op.method} ${op.path} twice`);
    operation[op.method] = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      ...(op.security
        ? { security: [{ [op.security === "tenant" ? "tenantKey" : "operatorToken"]: [] }] }
        : {}),
      ...(op.parameters
        ? { parameters: op.parameters.map((p) => ({ ...p, schema: parameterSchema(p.schema) })) }
        : {}),
      ...(op.requestBody
        ? {
            requestBody: {
              required: true,
              content: content(
                typeof op.requestBody === "string" ? { "application/json": op.requestBody } : op.requestBody,
              ),
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.headers
              ? { headers: Object.fromEntries(response.headers.map((name) => [name, header(name)])) }
              : {}),
            ...(response.schema
              ? { content: { [response.mediaType ?? "application/json"]: { schema: ref(response.schema) } } }
              : response.mediaType
                ? { content: { [response.mediaType]: { schema: { type: "string" } } } }
                : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Fairway",
      version: "0.1.0",
      description:
        "Multi-tenant marketing analytics at the edge. Tenant calls use `Authorization: Bearer <API key>`; " +
        "admin calls use the operator token. Errors are `{error: {code, message, requestId, fields?}}`.",
    },
    paths,
    components: {
      schemas: componentSchemas(components),
      securitySchemes: {
        tenantKey: {
          type: "http",
          scheme: "bearer",
          description: "A tenant API key, `fw_<tenant>_<secret>`",
        },
        operatorToken: { type: "http", scheme: "bearer", description: "FAIRWAY_OPERATOR_TOKEN" },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

function header(name: string): { description: string; schema: object } {
  const found = HEADERS[name];
  if (!found) throw new Error(`no OpenAPI header ${name}`);
  return found;
}

/** A parameter's JSON Schema; a zod schema is exported as the route's validator sees its input. */
function parameterSchema(schema: object | z.ZodType): object {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

function componentSchemas(components: Record<string, z.ZodType>): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: "input",
    unrepresentable: "any",
  });
  return Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

import { describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { EVENT_FIELDS, validateEvent } from "../../../src/domain/events/index.ts";
import { DIMENSIONS, MEASURES } from "../../../src/domain/query/index.ts";
import { querySchema } from "../../../src/domain/query/schema.ts";
import { createApp } from "../../../src/edge/app.ts";

// No Redis is needed to serve the documentation.
const app = createApp({ redis: new Redis({ url: "http://127.0.0.1:1", token: "unused", retry: false }) });

// biome-ignore lint/suspicious/noExplicitAny: the document is walked generically
async function document(): Promise<any> {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  return response.json();
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && typeof child === "string") found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

/** Every route the app answers, as `METHOD /path/{param}`; middleware (ALL) and the docs themselves left out. */
function registeredOperations(): Set<string> {
  const operations = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path === "/openapi.json" || route.path === "/docs") continue;
    operations.add(`${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
  }
  return operations;
}

// biome-ignore lint/suspicious/noExplicitAny: the document is walked generically
function documentedOperations(doc: any): Set<string> {
  const operations = new Set<string>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods as object)) operations.add(`${method.toUpperCase()} ${path}`);
  }
  return operations;
}

describe("GET /openapi.json", () => {
  test("documents every route the app registers, and nothing it does not", async () => {
    const doc = await document();
    const registered = registeredOperations();
    const documented = documentedOperations(doc);
    expect([...registered].filter((op) => op.includes(" /v1/")).length).toBeGreaterThanOrEqual(17);
    expect([...registered].filter((op) => !documented.has(op))).toEqual([]);
    expect([...documented].filter((op) => !registered.has(op))).toEqual([]);
  });

  test("every operation is well formed: auth, path parameters, the error shape on every 4xx", async () => {
    const doc = await document();
    const schemes = Object.keys(doc.components.securitySchemes);
    for (const [path, methods] of Object.entries(doc.paths)) {
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      // biome-ignore lint/suspicious/noExplicitAny: the document is walked generically
      for (const [method, op] of Object.entries(methods as Record<string, any>)) {
        const where = `${method} ${path}`;
        expect({ where, summary: typeof op.summary }).toEqual({ where, summary: "string" });
        if (path.startsWith("/v1/") || path.startsWith("/admin/") || path === "/metrics") {
          expect({ where, security: op.security?.length }).toEqual({ where, security: 1 });
        }
        for (const requirement of op.security ?? [])
          expect(schemes).toEqual(expect.arrayContaining(Object.keys(requirement)));
        const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === "path");
        expect({ where, params: declared.map((p: { name: string }) => p.name).sort() }).toEqual({
          where,
          params: [...pathParams].sort(),
        });
        for (const p of declared) expect({ where, required: p.required }).toEqual({ where, required: true });
        for (const p of op.parameters ?? []) expect(typeof p.schema).toBe("object");
        for (const [status, response] of Object.entries(
          op.responses as Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>,
        )) {
          if (Number(status) < 400) continue;
          expect({ where, status, schema: response.content?.["application/json"]?.schema.$ref }).toEqual({
            where,
            status,
            schema:
              status === "503" && path === "/health"
                ? "#/components/schemas/Health"
                : "#/components/schemas/Error",
          });
        }
      }
    }
    expect(doc.paths["/metrics"].get.security).toEqual([{ operatorToken: [] }]);
    expect(doc.paths["/v1/events"].post.security).toEqual([{ tenantKey: [] }]);
  });

  test("the event schema is the ingest schema's fields, strict; a valid event passes the route's validator", async () => {
    const doc = await document();
    const event = doc.components.schemas.Event;
    expect(Object.keys(event.properties).sort()).toEqual([...EVENT_FIELDS].sort());
    expect(event.additionalProperties).toBe(false);
    expect(event.properties.kind.enum).toEqual(["impression", "view", "click", "conversion"]);
    expect(event.required.sort()).toEqual(EVENT_FIELDS.filter((f) => f !== "cost" && f !== "revenue").sort());
    const sample = {
      id: 17,
      ts: new Date().toISOString(),
      kind: "click",
      channel: "search",
      campaign: "spring",
      ad: "ad-1",
      country: "us",
      city: "Austin",
      cost: 0.25,
    };
    expect(validateEvent(sample, { now: Date.now() }).ok).toBe(true);
    expect(Object.keys(doc.paths["/v1/events"].post.requestBody.content)).toEqual([
      "application/json",
      "application/x-ndjson",
    ]);
  });

  test("the influencer body is the route's own schema, with this deployment's bounds", async () => {
    const custom = createApp({
      redis: new Redis({ url: "http://127.0.0.1:1", token: "unused", retry: false }),
      influencers: { minIntervalSeconds: 1, maxIdsPerRequest: 7 },
    });
    const doc: Awaited<ReturnType<typeof document>> = await (await custom.request("/openapi.json")).json();
    const body = doc.components.schemas.TrackInfluencers;
    expect(body.properties.intervalSeconds).toMatchObject({ type: "integer", minimum: 1, maximum: 86_400 });
    expect(body.properties.ids).toMatchObject({ minItems: 1, maxItems: 7 });
    expect(body.additionalProperties).toBe(false);
    expect((await document()).components.schemas.TrackInfluencers.properties.intervalSeconds.minimum).toBe(
      60,
    );
  });

  test("an OpenAPI 3.1 document describing the query API and the admin endpoints", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/queries",
        "/v1/queries/{id}",
        "/v1/meta",
        "/admin/tenants",
        "/admin/tenants/{id}",
      ]),
    );
    expect(doc.paths["/v1/queries"].post.responses["202"].headers).toHaveProperty("Location");
    expect(doc.paths["/v1/queries"].post.security).toEqual([{ tenantKey: [] }]);
  });

  test("every $ref resolves inside the document", async () => {
    const doc = await document();
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(40);
    for (const ref of refs) {
      expect(ref.startsWith("#/")).toBe(true);
      let target: unknown = doc;
      for (const segment of ref.slice(2).split("/")) {
        const key = segment.replaceAll("~1", "/").replaceAll("~0", "~");
        target = target && typeof target === "object" ? (target as Record<string, unknown>)[key] : undefined;
      }
      expect({ ref, resolves: typeof target === "object" && target !== null }).toEqual({
        ref,
        resolves: true,
      });
    }
  });

  test("the query body schema is the validator's own schema (members, bounds, the recursive filter, cache)", async () => {
    const doc = await document();
    const body = doc.components.schemas.QueryRequest;
    expect(Object.keys(body.properties).sort()).toEqual([...Object.keys(querySchema.shape), "cache"].sort());
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.measures.items.enum).toEqual([...MEASURES]);
    expect(body.properties.dimensions.items.enum).toEqual([...DIMENSIONS]);
    expect(body.properties.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 50_000 });
    expect(body.properties.filters.items).toEqual({ $ref: "#/components/schemas/Filter" });
    expect(JSON.stringify(doc.components.schemas.Filter)).toContain('"$ref":"#/components/schemas/Filter"');
    expect(body.properties.cache.enum).toEqual(["default", "no-cache", "stale-while-revalidate"]);
  });
});

describe("GET /docs", () => {
  test("a self-contained HTML page: every operation and schema, no scripts, nothing from elsewhere", async () => {
    const response = await app.request("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    const doc = await document();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
  });
});

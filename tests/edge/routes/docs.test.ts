import { describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
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

describe("GET /openapi.json", () => {
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

  test("every $ref points at a component that exists", async () => {
    const doc = await document();
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.replace("#/components/schemas/", "");
      expect(doc.components.schemas).toHaveProperty(name);
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

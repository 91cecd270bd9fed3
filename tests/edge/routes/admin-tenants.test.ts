import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { keys } from "../../../src/domain/keys.ts";
import { hashApiKey } from "../../../src/domain/tenants.ts";
import { createApp } from "../../../src/edge/app.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";

let h: EdgeHarness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const admin = (path: string, init: RequestInit = {}) => h.request(path, { ...init, key: h.operatorToken });

async function tenantRow(id: string) {
  const rows = await h.host.warehouse.sql`select * from tenants where id = ${id}`;
  return rows[0];
}

describe("POST /admin/tenants", () => {
  test("201 with the key shown once; Redis holds only its hash; the tenant-sync actor writes Postgres", async () => {
    const response = await admin("/admin/tenants", {
      method: "POST",
      body: JSON.stringify({ name: "null", concurrencyLimit: 3, rateLimit: 50 }),
    });
    expect(response.status).toBe(201);
    const body = await json(response);
    h.track(body.id);
    expect(body).toEqual({
      id: expect.stringMatching(/^t[0-9a-f]{20}$/),
      name: "null",
      apiKey: expect.stringMatching(/^fw_t[0-9a-f]{20}_[A-Za-z0-9_-]{43}$/),
      limits: { concurrencyLimit: 3, rateLimit: 50, rateLimitWindowSeconds: 60 },
      disabled: false,
      createdAt: expect.any(String),
      revision: 1,
    });
    expect(response.headers.get("location")).toBe(`/admin/tenants/${body.id}`);
    const stored = JSON.stringify(await h.redis.hgetall(keys.tenant(body.id)));
    expect(stored).not.toContain(body.apiKey);
    expect(stored).toContain(await hashApiKey(body.apiKey));
    const row = await waitFor("the Postgres row", () => tenantRow(body.id));
    expect(row).toMatchObject({
      name: "null",
      api_key_hash: await hashApiKey(body.apiKey),
      concurrency_limit: 3,
      rate_limit: 50,
      rate_limit_window_seconds: 60,
    });
  });

  test("400 naming each bad field; unknown fields are refused", async () => {
    const response = await admin("/admin/tenants", {
      method: "POST",
      body: JSON.stringify({ name: "", concurrencyLimit: 0, colour: "red" }),
    });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("invalid_request");
    expect(error.fields).toEqual(
      expect.arrayContaining([
        { field: "name", message: "must not be empty" },
        { field: "concurrencyLimit", message: "must be an integer from 1 to 1000" },
        { field: "colour", message: "unknown field" },
      ]),
    );
  });

  test("malformed JSON is 400, an oversized body 413", async () => {
    const malformed = await admin("/admin/tenants", { method: "POST", body: "{name:" });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error.code).toBe("invalid_json");
    const huge = await admin("/admin/tenants", {
      method: "POST",
      body: JSON.stringify({ name: "x".repeat(20_000) }),
    });
    expect(huge.status).toBe(413);
    expect((await json(huge)).error.code).toBe("payload_too_large");
  });
});

describe("operator token", () => {
  test("401 without it or with a wrong one", async () => {
    const none = await h.request("/admin/tenants");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await h.request("/admin/tenants", { key: `${h.operatorToken}x` });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error.code).toBe("unauthorized");
  });

  test("503 saying so when no operator token is configured", async () => {
    const app = createApp({ ...h.services, operatorToken: undefined });
    const response = await app.request("/admin/tenants", { headers: { authorization: "Bearer anything" } });
    expect(response.status).toBe(503);
    expect((await json(response)).error).toMatchObject({
      code: "operator_token_not_configured",
      message: expect.stringContaining("FAIRWAY_OPERATOR_TOKEN"),
    });
  });
});

describe("listing, changing, rotating", () => {
  test("GET lists tenants without key material", async () => {
    const { id } = await h.createTenant({ name: "listed" });
    const response = await admin("/admin/tenants");
    expect(response.status).toBe(200);
    const { tenants } = await json(response);
    const mine = tenants.find((t: { id: string }) => t.id === id);
    expect(mine).toMatchObject({ id, name: "listed", disabled: false });
    expect(JSON.stringify(tenants)).not.toContain("apiKey");
  });

  test("PATCH changes limits, bumps the revision, and the change reaches Postgres", async () => {
    const { id } = await h.createTenant();
    const response = await admin(`/admin/tenants/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ concurrencyLimit: 7, rateLimitWindowSeconds: 10 }),
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      id,
      limits: { concurrencyLimit: 7, rateLimit: 600, rateLimitWindowSeconds: 10 },
      revision: 2,
    });
    await waitFor("the Postgres change", async () => {
      const row = await tenantRow(id);
      return row?.concurrency_limit === 7 && row.rate_limit_window_seconds === 10 ? row : undefined;
    });
  });

  test("PATCH of an unknown tenant is 404, an empty change 400", async () => {
    const missing = await admin("/admin/tenants/tnope", { method: "PATCH", body: '{"rateLimit": 5}' });
    expect(missing.status).toBe(404);
    const { id } = await h.createTenant();
    const empty = await admin(`/admin/tenants/${id}`, { method: "PATCH", body: "{}" });
    expect(empty.status).toBe(400);
  });

  test("rotate-key: the new key works, the old one no longer does", async () => {
    const { id, apiKey } = await h.createTenant();
    expect((await h.request("/v1/meta", { key: apiKey })).status).toBe(200);
    const response = await admin(`/admin/tenants/${id}/rotate-key`, { method: "POST" });
    expect(response.status).toBe(200);
    const rotated = await json(response);
    expect(rotated.apiKey).not.toBe(apiKey);
    expect((await h.request("/v1/meta", { key: apiKey })).status).toBe(401);
    expect((await h.request("/v1/meta", { key: rotated.apiKey })).status).toBe(200);
    await waitFor("the new hash in Postgres", async () => {
      const row = await tenantRow(id);
      return row?.api_key_hash === (await hashApiKey(rotated.apiKey)) ? row : undefined;
    });
  });
});

test("a name that looks like JSON survives the client's automatic parsing of hash values", async () => {
  const { id } = await h.createTenant({ name: "1.50" });
  expect((await json(await admin(`/admin/tenants/${id}`))).name).toBe("1.50");
});

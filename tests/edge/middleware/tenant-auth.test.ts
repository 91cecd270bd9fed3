import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";
import { keys } from "../../../src/domain/keys.ts";
import { type Query, queryHash } from "../../../src/domain/query/index.ts";
import type { CachedResult } from "../../../src/domain/query-jobs.ts";
import { createApp } from "../../../src/edge/app.ts";
import type { EdgeEnv, EdgeServices } from "../../../src/edge/context.ts";
import { renderError } from "../../../src/edge/errors.ts";
import { tenantAuth } from "../../../src/edge/middleware/tenant-auth.ts";
import { freePort } from "../../../src/local/services/ports.ts";
import { type EdgeHarness, json, startHarness } from "../support/harness.ts";

let h: EdgeHarness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

/** A tiny app with one authenticated route that echoes what the middleware set. */
function whoamiApp(services: EdgeServices) {
  const app = new Hono<EdgeEnv>();
  app.onError(renderError);
  app.get(
    "/v1/whoami",
    tenantAuth(services, { prefetch: (_c, tenantId) => [keys.dataVersion(tenantId)] }),
    (c) =>
      c.json({
        tenant: c.get("tenant"),
        dataVersion: c.get("dataVersion"),
        prefetched: [...c.get("prefetched")],
      }),
  );
  return app;
}

const whoami = (key?: string, services = h.services) =>
  whoamiApp(services).request(
    "/v1/whoami",
    key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
  );

describe("authentication", () => {
  test("a valid key sets the tenant, its limits and its data version", async () => {
    const { id, apiKey } = await h.createTenant({ name: "acme", concurrencyLimit: 2, rateLimit: 100 });
    await h.redis.set(keys.dataVersion(id), 7);
    const response = await whoami(apiKey);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      tenant: { id, name: "acme", concurrencyLimit: 2, rateLimit: 100, rateLimitWindowSeconds: 60 },
      dataVersion: 7,
      prefetched: [[keys.dataVersion(id), "7"]], // as Redis stored it
    });
  });

  test("401 with the same message for a missing, malformed, unknown or wrong key", async () => {
    const { id, apiKey } = await h.createTenant();
    const wrongSecret = `${apiKey.slice(0, -4)}AAAA`;
    const cases = [undefined, "nope", `fw_tnobody_${"a".repeat(43)}`, wrongSecret, `${apiKey}x`];
    for (const key of cases) {
      const response = await whoami(key);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      const { error } = await json(response);
      expect(error.code).toBe("unauthorized");
      expect(error.message).toBe(
        key === undefined ? "Missing Authorization: Bearer <API key>" : "Invalid API key",
      );
    }
    expect((await whoami(apiKey.replace(id, id.toUpperCase()))).status).toBe(401);
  });

  test("403 for a disabled tenant, 200 again once enabled", async () => {
    const { id, apiKey } = await h.createTenant();
    const disable = (disabled: boolean) =>
      h.request(`/admin/tenants/${id}`, {
        method: "PATCH",
        key: h.operatorToken,
        body: JSON.stringify({ disabled }),
      });
    expect((await disable(true)).status).toBe(200);
    const refused = await whoami(apiKey);
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe("tenant_disabled");
    await disable(false);
    expect((await whoami(apiKey)).status).toBe(200);
  });

  test("503 naming Redis when it cannot be reached; never a 500 or a hang", async () => {
    const { apiKey } = await h.createTenant();
    const down = {
      ...h.services,
      redis: new Redis({ url: `http://127.0.0.1:${await freePort()}`, token: "x", retry: false }),
    };
    const response = await whoami(apiKey, down);
    expect(response.status).toBe(503);
    expect((await json(response)).error.code).toBe("redis_unavailable");
  });
});

describe("rate limiting", () => {
  test("429 past the tenant's limit, with Retry-After and RateLimit-* headers", async () => {
    const { apiKey } = await h.createTenant({ rateLimit: 3, rateLimitWindowSeconds: 30 });
    const app = createApp(h.services);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await app.request("/v1/meta", { headers: { authorization: `Bearer ${apiKey}` } });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-limit")).toBe("3");
        expect(last.headers.get("ratelimit-remaining")).toBe("2");
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = last as Response;
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect(refused.headers.get("ratelimit-reset")).toBe(String(retryAfter));
    expect((await json(refused)).error.code).toBe("rate_limited");
  });

  test("requests with a wrong key for a real tenant id do not use up the tenant's allowance", async () => {
    const { apiKey } = await h.createTenant({ rateLimit: 2, rateLimitWindowSeconds: 30 });
    const app = createApp(h.services);
    const call = (key: string) => app.request("/v1/meta", { headers: { authorization: `Bearer ${key}` } });
    expect((await call(apiKey)).status).toBe(200); // the limits are now known in this isolate
    const forged = `${apiKey.slice(0, -4)}AAAA`;
    for (let i = 0; i < 5; i++) expect((await call(forged)).status).toBe(401);
    expect((await call(apiKey)).status).toBe(200);
    expect((await call(apiKey)).status).toBe(429);
  });

  test("a lowered limit applies from the request after the change was read", async () => {
    const { id, apiKey } = await h.createTenant({ rateLimit: 100 });
    const app = createApp(h.services);
    const call = () => app.request("/v1/meta", { headers: { authorization: `Bearer ${apiKey}` } });
    expect((await call()).status).toBe(200);
    await h.request(`/admin/tenants/${id}`, {
      method: "PATCH",
      key: h.operatorToken,
      body: '{"rateLimit": 2}',
    });
    expect((await call()).status).toBe(200); // counted against the limit known before this request
    expect((await call()).status).toBe(429);
  });
});

describe("one round trip", () => {
  let proxy: ReturnType<typeof Bun.serve>;
  const seen: string[] = [];
  /** The bridge's answers, in the order of `seen`. */
  const answers: string[] = [];
  /** A key whose conditional reads by script SHA are sent with an unknown SHA, so Redis answers NOSCRIPT. */
  let forgetScriptFor: string | undefined;

  beforeAll(() => {
    // Counts every REST request on its way to the bridge.
    proxy = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const url = new URL(request.url);
        let body = await request.text();
        if (forgetScriptFor !== undefined && url.pathname === "/pipeline") {
          const commands = JSON.parse(body) as unknown[][];
          for (const command of commands) {
            if (command[0] === "evalsha" && command[3] === forgetScriptFor) command[1] = "0".repeat(40);
          }
          body = JSON.stringify(commands);
        }
        seen.push(`${url.pathname} ${body}`);
        const answer = await fetch(`${h.bridge.url}${url.pathname}`, {
          method: "POST",
          headers: request.headers,
          body,
        });
        const text = await answer.text();
        answers.push(text);
        return new Response(text, { status: answer.status, headers: answer.headers });
      },
    });
  });
  afterAll(() => proxy.stop(true));

  test("a cached query costs one Redis request: tenant, version, cache entry and rate-limit script together", async () => {
    const { id, apiKey } = await h.createTenant();
    const query: Query = { measures: ["clicks"], dimensions: ["country"] };
    const { hash } = await queryHash(query, Date.now());
    const entry: CachedResult = {
      queryId: `q${"1".repeat(24)}`,
      dataVersion: 0,
      computedAt: Date.now(),
      durationMs: 3,
      source: "ad_rollup_day",
      columns: ["country", "clicks"],
      data: [{ country: "NL", clicks: 12 }],
    };
    await h.redis.set(keys.cache(id, hash), JSON.stringify(entry), { ex: 60 });
    const redis = new Redis({ url: proxy.url.href.replace(/\/$/, ""), token: h.bridgeToken });
    const app = createApp({ ...h.services, redis });
    const call = () =>
      app.request("/v1/queries", {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(query),
      });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(200); // limits known, scripts loaded
    seen.length = 0;
    const response = await call();
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      data: [{ country: "NL", clicks: 12 }],
      meta: { cache: "hit" },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toStartWith("/pipeline ");
    for (const command of ['"hgetall"', '"evalsha"', keys.cache(id, hash), keys.dataVersion(id)]) {
      expect(seen[0]).toContain(command);
    }
  });

  test("a repeated hit does not fetch the entry again, and a changed entry is answered in full", async () => {
    const { id, apiKey } = await h.createTenant();
    const query: Query = { measures: ["clicks"], dimensions: ["channel"] };
    const { hash } = await queryHash(query, Date.now());
    const entryWith = (clicks: number): CachedResult => ({
      queryId: `q${String(clicks).padStart(24, "7")}`,
      dataVersion: 0,
      computedAt: Date.now(),
      durationMs: 3,
      source: "ad_rollup_day",
      columns: ["channel", "clicks"],
      data: [{ channel: "marker-channel", clicks }],
    });
    const store = (entry: CachedResult) =>
      h.redis.set(keys.cache(id, hash), JSON.stringify(entry), { ex: 60 });
    // Plain JSON answers, so the test can see whether the entry's text travelled.
    const redis = new Redis({
      url: proxy.url.href.replace(/\/$/, ""),
      token: h.bridgeToken,
      responseEncoding: false,
    });
    const app = createApp({ ...h.services, redis });
    const call = async () => {
      seen.length = 0;
      answers.length = 0;
      const response = await app.request("/v1/queries", {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(query),
      });
      expect(response.status).toBe(200);
      return (await json(response)) as {
        data: { channel: string; clicks: number }[];
        meta: { cache: string };
      };
    };

    await store(entryWith(5));
    expect((await call()).data).toEqual([{ channel: "marker-channel", clicks: 5 }]);
    await call(); // the entry's fingerprint is known from here on
    await call(); // the script is known to have been sent from here on
    const repeated = await call();
    expect(repeated).toMatchObject({
      data: [{ channel: "marker-channel", clicks: 5 }],
      meta: { cache: "hit" },
    });
    expect(seen).toHaveLength(1);
    // The conditional read names its script rather than sending the text.
    expect(seen[0]).toContain('"evalsha"');
    expect(seen[0]).not.toContain("sha1hex");
    expect(answers[0]).not.toContain("marker-channel");

    // A Redis that does not know the script (restarted, scripts flushed) is sent its text in a second trip.
    forgetScriptFor = keys.cache(id, hash);
    try {
      expect(await call()).toMatchObject({
        data: [{ channel: "marker-channel", clicks: 5 }],
        meta: { cache: "hit" },
      });
      expect(seen).toHaveLength(2);
      expect(answers[0]).toContain("NOSCRIPT");
      expect(seen[1]).toContain('"eval"');
      expect(seen[1]).toContain("sha1hex");
      expect(answers[1]).not.toContain("marker-channel");
    } finally {
      forgetScriptFor = undefined;
    }

    // The entry was replaced (a newer answer for the same question): the new one is served at once.
    await store(entryWith(9));
    expect((await call()).data).toEqual([{ channel: "marker-channel", clicks: 9 }]);
    expect(answers[0]).toContain("marker-channel");
    await call();
    expect((await call()).data).toEqual([{ channel: "marker-channel", clicks: 9 }]);
    expect(answers[0]).not.toContain("marker-channel");
  });
});

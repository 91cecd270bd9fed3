// One contract for every runtime the edge runs on: start the real server once per file, ask it real questions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { keys, tenantTag } from "../../../src/domain/keys.ts";
import { type Query, queryHash } from "../../../src/domain/query/index.ts";
import type { CachedResult } from "../../../src/domain/query-jobs.ts";
import {
  DEFAULT_LIMITS,
  hashApiKey,
  newApiKey,
  newTenantId,
  type TenantRecord,
  tenantToHash,
} from "../../../src/domain/tenants.ts";
import type { HealthBody } from "../../../src/edge/routes/health.ts";
import { freePort } from "../../../src/local/services/ports.ts";
import type { RunningChild } from "../../../src/local/services/supervisor.ts";
import { type EdgeTestStack, startEdgeStack } from "./stack.ts";

export interface RuntimeStart {
  port: number;
  edgeEnv: Record<string, string>;
}

export function describeRuntime(
  runtime: string,
  start: (options: RuntimeStart) => Promise<RunningChild>,
  extraChecks?: (server: () => RunningChild) => void,
): void {
  describe(`the edge on ${runtime}`, () => {
    let stack: EdgeTestStack;
    let server: RunningChild;
    let baseUrl: string;

    beforeAll(async () => {
      stack = await startEdgeStack();
      const port = await freePort();
      server = await start({ port, edgeEnv: stack.edgeEnv });
      baseUrl = `http://127.0.0.1:${port}`;
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      await stack?.stop();
    });

    test("GET /health answers 200 with Redis (through the bridge) and Postgres (through the actors host)", async () => {
      const response = await fetch(`${baseUrl}/health`);
      const body = (await response.json()) as HealthBody;
      expect({ status: response.status, body }).toEqual({
        status: 200,
        body: {
          status: "ok",
          redis: { ok: true, latencyMs: expect.any(Number) },
          postgres: { ok: true, latencyMs: expect.any(Number) },
        },
      });
      expect(response.headers.get("x-request-id")).toBeString();
    });

    test("unknown routes get the JSON error shape", async () => {
      const response = await fetch(`${baseUrl}/nope`, { headers: { "x-request-id": `${runtime}-1` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: "not_found", message: "No route for GET /nope", requestId: `${runtime}-1` },
      });
    });

    describe("an authenticated, cached query", () => {
      const tenantId = newTenantId();
      const apiKey = newApiKey(tenantId);
      const query: Query = { measures: ["clicks", "ctr"], dimensions: ["channel"], limit: 5 };
      let redis: Redis;

      beforeAll(async () => {
        redis = new Redis({ url: stack.redisRestUrl, token: stack.redisRestToken });
        const record: TenantRecord = {
          id: tenantId,
          name: `${runtime} smoke`,
          apiKeyHash: await hashApiKey(apiKey),
          ...DEFAULT_LIMITS,
          rateLimit: 5,
          createdAt: Date.now(),
          disabledAt: null,
          revision: 1,
        };
        await redis.hset(keys.tenant(tenantId), tenantToHash(record));
        const { hash } = await queryHash(query, Date.now());
        const entry: CachedResult = {
          queryId: `q${"a".repeat(24)}`,
          dataVersion: 0,
          computedAt: Date.now(),
          durationMs: 4,
          source: "ad_rollup_day",
          columns: ["channel", "clicks", "ctr"],
          data: [{ channel: "google", clicks: 42, ctr: 0.21 }],
        };
        await redis.set(keys.cache(tenantId, hash), JSON.stringify(entry), { ex: 120 });
      });

      afterAll(async () => {
        const found = await redis.keys(`${tenantTag(tenantId)}*`);
        if (found.length > 0) await redis.del(...found);
      });

      const post = (key: string) =>
        fetch(`${baseUrl}/v1/queries`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify(query),
        });

      test("the tenant key authenticates and the query is answered from the cache", async () => {
        const response = await post(apiKey);
        expect(response.status).toBe(200);
        expect(response.headers.get("ratelimit-limit")).toBe("5");
        const body = (await response.json()) as { data: unknown[]; meta: { cache: string; source: string } };
        expect(body.data).toEqual([{ channel: "google", clicks: 42, ctr: 0.21 }]);
        expect(body.meta).toMatchObject({ cache: "hit", source: "ad_rollup_day" });
      });

      test("a wrong key is a 401, and the tenant's rate limit answers 429", async () => {
        expect((await post(`${apiKey.slice(0, -3)}AAA`)).status).toBe(401);
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) statuses.push((await post(apiKey)).status);
        expect(statuses.at(-1)).toBe(429);
        expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(4);
      });

      test("the OpenAPI document is served", async () => {
        const response = await fetch(`${baseUrl}/openapi.json`);
        expect(response.status).toBe(200);
        expect(((await response.json()) as { openapi: string }).openapi).toBe("3.1.0");
      });
    });

    extraChecks?.(() => server);
  });
}

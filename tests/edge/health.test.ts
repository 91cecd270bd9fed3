import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { Redis } from "@upstash/redis/cloudflare";
import { createApp, type EdgeServices } from "../../src/edge/app.ts";
import type { HealthBody } from "../../src/edge/routes/health.ts";
import { freePort } from "../../src/local/services/ports.ts";
import type { RunningChild } from "../../src/local/services/supervisor.ts";
import { type EdgeTestStack, startActorsHost, startEdgeStack } from "./support/stack.ts";

let stack: EdgeTestStack;
let actorsWithoutPostgres: RunningChild;
let silentServer: Server;
let silentUrl: string;

beforeAll(async () => {
  stack = await startEdgeStack();
  // An actors host whose Postgres is a closed port: it answers /health, reporting the database down.
  actorsWithoutPostgres = await startActorsHost(`postgres://postgres@127.0.0.1:${await freePort()}/nowhere`);
  // Accepts connections and never answers, like a host that hangs.
  silentServer = createServer(() => {});
  await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
  const address = silentServer.address();
  silentUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  silentServer.close();
  await actorsWithoutPostgres.stop();
  await stack.stop();
});

function services(overrides: Partial<EdgeServices> & { token?: string } = {}): EdgeServices {
  const { token, ...rest } = overrides;
  return {
    redis: new Redis({ url: stack.redisRestUrl, token: token ?? stack.redisRestToken, retry: false }),
    actorsUrl: stack.actorsUrl,
    ...rest,
  };
}

async function health(app: ReturnType<typeof createApp>): Promise<{ status: number; body: HealthBody }> {
  const response = await app.request("/health");
  return { status: response.status, body: (await response.json()) as HealthBody };
}

describe("GET /health", () => {
  test("200 when Redis answers through the bridge and the actors host reaches Postgres", async () => {
    const response = await createApp(services()).request("/health");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe("ok");
    expect(body.redis).toEqual({ ok: true, latencyMs: expect.any(Number) });
    expect(body.postgres).toEqual({ ok: true, latencyMs: expect.any(Number) });
  });

  test("503 naming the Redis failure when the bridge refuses the token", async () => {
    const { status, body } = await health(createApp(services({ token: "wrong-token" })));
    expect(status).toBe(503);
    expect(body.status).toBe("degraded");
    expect(body.redis.ok).toBe(false);
    expect(body.redis.error).toContain("Unauthorized");
    expect(body.postgres.ok).toBe(true);
  });

  test("503 when Postgres is down behind the actors host, with the database's error", async () => {
    const { status, body } = await health(createApp(services({ actorsUrl: actorsWithoutPostgres.url })));
    expect(status).toBe(503);
    expect(body.redis.ok).toBe(true);
    expect(body.postgres.ok).toBe(false);
    expect(body.postgres.error).toBeString();
    expect(body.postgres.error).not.toBe("");
  });

  test("503 when the actors host is unreachable", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { status, body } = await health(createApp(services({ actorsUrl: closed })));
    expect(status).toBe(503);
    expect(body.postgres.ok).toBe(false);
    expect(body.postgres.error).toBeString();
  });

  test("503 without an actors URL: the edge never opens Postgres itself", async () => {
    const { status, body } = await health(createApp(services({ actorsUrl: undefined })));
    expect(status).toBe(503);
    expect(body.postgres).toEqual({ ok: false, latencyMs: 0, error: "ACTORS_URL is not configured" });
  });

  test("a hanging dependency costs at most the timeout, not a hung request", async () => {
    const app = createApp(services({ actorsUrl: silentUrl }), { healthTimeoutMs: 300 });
    const started = performance.now();
    const { status, body } = await health(app);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(status).toBe(503);
    expect(body.postgres.error).toBe("no answer within 300 ms");
    expect(body.redis.ok).toBe(true);
  });
});

// The edge app in this process with everything real around it: the Redis REST bridge, the QStash broker (state
// in Redis under a unique prefix), and an actors host serving the given actors against fairway_test.
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis/cloudflare";
import type { Hono } from "hono";
import type { AnyActor } from "../../../actors/define.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import { globalKeys, tenantTag } from "../../../src/domain/keys.ts";
import { createApp } from "../../../src/edge/app.ts";
import type { EdgeEnv, EdgeServices, QuerySettings } from "../../../src/edge/context.ts";
import { type QStashBroker, startQStash } from "../../../src/local/qstash/broker.ts";
import { BrokerStore } from "../../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../../src/local/qstash/store/redis-link.ts";
import { type RedisRest, startRedisRest } from "../../../src/local/redis-rest/index.ts";
import { createPublisher } from "../../../src/publisher/index.ts";
import { QSTASH_TOKEN, startTestHost, type TestHost } from "../../actors/support.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface HarnessOptions {
  actors?: readonly AnyActor[];
  query?: Partial<QuerySettings>;
  /** Broker time scale: 0.01 turns QStash's seconds into tens of milliseconds. */
  timeScale?: number;
  /** The actors host's warehouse (default fairway_test). */
  databaseUrl?: string;
}

export interface EdgeHarness {
  app: Hono<EdgeEnv>;
  services: EdgeServices;
  /** For assertions and set-up; same bridge as the app. */
  redis: Redis;
  bridge: RedisRest;
  bridgeToken: string;
  broker: QStashBroker;
  host: TestHost;
  operatorToken: string;
  /** Creates a tenant through the admin API; it is removed from Redis at `stop()`. */
  createTenant(body?: Record<string, unknown>): Promise<{ id: string; apiKey: string }>;
  /** Remembers a tenant id for clean-up (tenants created by a test without `createTenant`). */
  track(tenantId: string): void;
  request(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<EdgeHarness> {
  const run = crypto.randomUUID().slice(0, 8);
  const brokerPrefix = `test-edge-${run}`;
  const restToken = `edge-${run}`;
  const operatorToken = `operator-${run}`;
  const bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: restToken });
  const broker = await startQStash({
    redisUrl: REDIS_URL,
    port: 0,
    keyPrefix: brokerPrefix,
    timeScale: options.timeScale ?? 0.01,
    log: () => {},
  });
  const host = startTestHost({
    actors: options.actors ?? [tenantSyncActor],
    qstashUrl: broker.url,
    redisRestUrl: bridge.url,
    redisRestToken: restToken,
    databaseUrl: options.databaseUrl,
  });
  const redis = new Redis({ url: bridge.url, token: restToken, enableTelemetry: false });
  const services: EdgeServices = {
    redis: new Redis({ url: bridge.url, token: restToken, enableTelemetry: false }),
    actorsUrl: host.url,
    publisher: createPublisher({
      client: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
      actorsUrl: host.publicUrl,
    }),
    operatorToken,
    query: options.query,
  };
  const app = createApp(services);
  const tenants = new Set<string>();

  const request: EdgeHarness["request"] = (path, init = {}) => {
    const { key, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== undefined) headers.set("authorization", `Bearer ${key}`);
    if (rest.body !== undefined && !headers.has("content-type"))
      headers.set("content-type", "application/json");
    return Promise.resolve(app.request(path, { ...rest, headers }));
  };

  return {
    app,
    services,
    redis,
    bridge,
    bridgeToken: restToken,
    broker,
    host,
    operatorToken,
    track: (id) => tenants.add(id),
    request,
    async createTenant(body = {}) {
      const response = await request("/admin/tenants", {
        method: "POST",
        key: operatorToken,
        body: JSON.stringify({ name: `test ${run}`, ...body }),
      });
      if (response.status !== 201)
        throw new Error(`create tenant: ${response.status} ${await response.text()}`);
      const created = (await response.json()) as { id: string; apiKey: string };
      tenants.add(created.id);
      return created;
    },
    async stop() {
      // Rows in fairway_test would be copied back into Redis by every actors host that starts later.
      if (tenants.size > 0)
        await host.warehouse.sql`delete from tenants where id in ${host.warehouse.sql([...tenants])}`;
      await host.close();
      await broker.stop();
      for (const id of tenants) {
        const found = await redis.keys(`${tenantTag(id)}*`);
        if (found.length > 0) await redis.del(...found);
        await redis.srem(globalKeys.tenants, id);
      }
      await bridge.stop();
      const link = await RedisLink.open(REDIS_URL, "edge-harness-cleanup");
      await new BrokerStore(link, brokerPrefix).destroyAll();
      await link.close();
    },
  };
}

export { waitFor } from "../../support/wait.ts";

/** A response's JSON body, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary fields
export async function json(response: Response): Promise<any> {
  return response.json();
}

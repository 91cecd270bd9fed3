// An import stack for tests, everything real: the Redis REST bridge, the QStash broker (own key prefix, fast
// time scale), an actors host (in this process, or a child process that a test may SIGKILL and restart), and
// the edge app in this process. Tenants are created through the admin API and removed (with their events) at
// the end.
import { fileURLToPath } from "node:url";
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import type { AnyActor } from "../../actors/define.ts";
import { type RunningActorsHost, serveActors } from "../../actors/host.ts";
import { importActor } from "../../actors/import.ts";
import { ingestActor } from "../../actors/ingest.ts";
import { createLogger } from "../../actors/log.ts";
import { observeActors } from "../../actors/monitor/observe.ts";
import { tenantSyncActor } from "../../actors/tenant-sync.ts";
import { globalKeys, tenantTag } from "../../src/domain/keys.ts";
import { createApp } from "../../src/edge/app.ts";
import type { EdgeServices } from "../../src/edge/context.ts";
import { monitoredServices } from "../../src/edge/routes/stats.ts";
import { type QStashBroker, startQStash } from "../../src/local/qstash/broker.ts";
import { BrokerStore } from "../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../src/local/qstash/store/redis-link.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { createPublisher } from "../../src/publisher/index.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { DATABASE_URL, QSTASH_TOKEN, SIGNING } from "../actors/support.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const ACTORS_MAIN = fileURLToPath(new URL("../../actors/main.ts", import.meta.url));

export interface StackOptions {
  /** Run the actors host as a child process (for SIGKILL tests). */
  childHost?: boolean;
  /** Extra actors for an in-process host, made once the broker runs. */
  actors?: (stack: { brokerUrl: string; namespace: string }) => readonly AnyActor[];
  /** Environment for a child host. */
  hostEnv?: Record<string, string>;
  /** Monitoring namespace (global keys of this stack's own). */
  namespace?: string;
}

export interface ActorsProcess {
  url: string;
  kill(): void;
  stop(): Promise<void>;
  logs: string[];
}

export interface ImportStack {
  run: string;
  redis: Redis;
  bridge: RedisRest;
  bridgeToken: string;
  broker: QStashBroker;
  warehouse: Warehouse;
  services: EdgeServices;
  app: ReturnType<typeof createApp>;
  operatorToken: string;
  namespace: string;
  /** The running actors host (replaced by `restartHost`). */
  host(): ActorsProcess;
  actorsUrl: string;
  /** A child host killed with SIGKILL; `restartHost` brings a new one up on the same port. */
  restartHost(): Promise<void>;
  createTenant(): Promise<{ id: string; apiKey: string }>;
  request(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  upload(
    body: RequestInit["body"],
    key: string,
    options?: { importId?: string; query?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  waitForImport(id: string, key: string, timeoutMs?: number): Promise<ImportView>;
  stop(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary fields
export type ImportView = Record<string, any>;

const FINAL = new Set(["completed", "completed_with_errors", "failed"]);

export async function startImportStack(options: StackOptions = {}): Promise<ImportStack> {
  const run = crypto.randomUUID().slice(0, 8);
  const brokerPrefix = `test-import-${run}`;
  const bridgeToken = `import-${run}`;
  const operatorToken = `operator-${run}`;
  const namespace = options.namespace ?? `test-${run}`;
  const bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: bridgeToken });
  const broker = await startQStash({
    redisUrl: REDIS_URL,
    port: 0,
    keyPrefix: brokerPrefix,
    timeScale: 0.01,
    log: () => {},
  });
  const redis = new Redis({ url: bridge.url, token: bridgeToken, enableTelemetry: false });
  const warehouse = openWarehouse(DATABASE_URL, { max: 2 });
  const port = freePort();
  const hostEnv = {
    ...process.env,
    PORT: String(port),
    DATABASE_URL,
    DATABASE_POOL_MAX: "4",
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: bridgeToken,
    QSTASH_URL: broker.url,
    INFLUENCER_SINK: "off",
    FAIRWAY_MONITOR_NAMESPACE: namespace,
    FAIRWAY_MONITOR_CRON: "",
    ...options.hostEnv,
  };
  let host = options.childHost
    ? await spawnHost(hostEnv)
    : inProcessHost(
        port,
        bridge.url,
        bridgeToken,
        broker.url,
        options.actors?.({ brokerUrl: broker.url, namespace }) ?? [],
        namespace,
      );
  const actorsUrl = `http://127.0.0.1:${port}`;

  const services = monitoredServices(
    {
      redis: new Redis({ url: bridge.url, token: bridgeToken, enableTelemetry: false }) as never,
      actorsUrl,
      publisher: createPublisher({
        client: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
        actorsUrl,
      }),
      operatorToken,
    },
    { namespace },
  );
  const app = createApp(services);
  const tenants = new Set<string>();

  const request: ImportStack["request"] = (path, init = {}) => {
    const { key, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== undefined) headers.set("authorization", `Bearer ${key}`);
    return Promise.resolve(app.request(path, { ...rest, headers }));
  };

  return {
    run,
    redis,
    bridge,
    bridgeToken,
    broker,
    warehouse,
    services,
    app,
    operatorToken,
    namespace,
    host: () => host,
    actorsUrl,
    async restartHost() {
      host.kill();
      await Bun.sleep(50);
      host = await spawnHost(hostEnv);
    },
    async createTenant() {
      const response = await request("/admin/tenants", {
        method: "POST",
        key: operatorToken,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: `import test ${run}` }),
      });
      if (response.status !== 201)
        throw new Error(`create tenant: ${response.status} ${await response.text()}`);
      const created = (await response.json()) as { id: string; apiKey: string };
      tenants.add(created.id);
      // Imports are booked against the tenant's warehouse row, which tenant-sync writes.
      const deadline = Date.now() + 10_000;
      while ((await warehouse.sql`select 1 from tenants where id = ${created.id}`).length === 0) {
        if (Date.now() > deadline) throw new Error("tenant never reached the warehouse");
        await Bun.sleep(20);
      }
      return created;
    },
    request,
    upload(body, key, uploadOptions = {}) {
      const headers: Record<string, string> = { "content-type": "text/csv", ...uploadOptions.headers };
      if (uploadOptions.importId) headers["idempotency-key"] = uploadOptions.importId;
      return request(`/v1/imports${uploadOptions.query ? `?${uploadOptions.query}` : ""}`, {
        method: "POST",
        key,
        headers,
        body,
        // Streaming request bodies need it.
        duplex: "half",
      });
    },
    async waitForImport(id, key, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const response = await request(`/v1/imports/${id}`, { key });
        const view = (await response.json()) as ImportView;
        if (response.status === 200 && FINAL.has(view.status)) return view;
        if (Date.now() > deadline) throw new Error(`import ${id} did not finish: ${JSON.stringify(view)}`);
        await Bun.sleep(50);
      }
    },
    async stop() {
      host.kill();
      await host.stop();
      if (tenants.size > 0) {
        const ids = [...tenants];
        for (const table of [
          "ad_events",
          "ad_rollup_minute",
          "ad_rollup_hour",
          "ad_rollup_day",
          "ad_rollup_day_campaign",
          "leaderboard_outbox",
        ]) {
          await warehouse.sql`delete from ${warehouse.sql(table)} where tenant_id in ${warehouse.sql(ids)}`;
        }
        await warehouse.sql`delete from tenants where id in ${warehouse.sql(ids)}`;
      }
      for (const id of tenants) {
        const found = await redis.keys(`${tenantTag(id)}*`);
        if (found.length > 0) await redis.del(...found);
        await redis.srem(globalKeys.tenants, id);
      }
      const scoped = await redis.keys(`fw:*:${namespace}*`);
      if (scoped.length > 0) await redis.del(...scoped);
      await broker.stop();
      await bridge.stop();
      await warehouse.close();
      const link = await RedisLink.open(REDIS_URL, "import-test-cleanup");
      await new BrokerStore(link, brokerPrefix).destroyAll();
      await link.close();
    },
  };
}

function inProcessHost(
  port: number,
  bridgeUrl: string,
  bridgeToken: string,
  brokerUrl: string,
  extra: readonly AnyActor[],
  namespace: string,
): ActorsProcess {
  const warehouse = openWarehouse(DATABASE_URL, { max: 4 });
  const redis = new Redis({ url: bridgeUrl, token: bridgeToken, enableTelemetry: false });
  const logs: string[] = [];
  const running: RunningActorsHost = serveActors({
    port,
    hostname: "127.0.0.1",
    actors: observeActors([tenantSyncActor, ingestActor, importActor, ...extra], redis, { namespace }),
    warehouse,
    redis,
    qstash: new Client({ baseUrl: brokerUrl, token: QSTASH_TOKEN, retry: false }),
    receiver: new Receiver({ currentSigningKey: SIGNING.current, nextSigningKey: SIGNING.next }),
    log: createLogger({}, (_level, line) => logs.push(line)),
  });
  return {
    url: running.url,
    logs,
    kill: () => void running.stop(true),
    async stop() {
      await running.stop(true);
      await warehouse.close();
    },
  };
}

async function spawnHost(env: Record<string, string | undefined>): Promise<ActorsProcess> {
  const child = Bun.spawn([process.execPath, ACTORS_MAIN], { env, stdout: "pipe", stderr: "pipe" });
  const logs: string[] = [];
  const reader = child.stdout.getReader();
  let banner = "";
  while (!banner.includes("actors ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`actors host exited: ${await new Response(child.stderr).text()}`);
    banner += new TextDecoder().decode(value);
  }
  // Keep draining its output so a chatty host never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      logs.push(new TextDecoder().decode(value));
    }
  })();
  void new Response(child.stderr).text().then((text) => logs.push(text));
  return {
    url: /actors ready (\S+)/.exec(banner)?.[1] ?? "",
    logs,
    kill: () => child.kill("SIGKILL"),
    async stop() {
      child.kill("SIGKILL");
      await child.exited;
    },
  };
}

export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

export const CSV_HEADER = "id,ts,kind,channel,campaign,ad,country,city,cost,revenue";

/** Kinds of bad row the big file mixes in, each with the column it is reported under. */
export const BAD_ROWS: readonly { column: string; make: (i: number, ts: string) => string }[] = [
  { column: "kind", make: (i, ts) => `e${i},${ts},clik,google,spring,ad-1,US,Austin,0.5,0` },
  { column: "country", make: (i, ts) => `e${i},${ts},click,google,spring,ad-1,USA,Austin,0.5,0` },
  { column: "cost", make: (i, ts) => `e${i},${ts},click,google,spring,ad-1,US,Austin,-2,0` },
  { column: "ts", make: (i) => `e${i},yesterday,click,google,spring,ad-1,US,Austin,0.5,0` },
  { column: "", make: (i, ts) => `e${i},${ts},click,google` },
];

/**
 * A CSV of `rows` data rows; every `badEvery`-th row (the 100th, 200th, …) is bad. Returns the text and the
 * file line of every bad row (the header is line 1).
 */
export function makeCsv(
  rows: number,
  badEvery = 100,
  seed = 1,
): { text: string; badLines: Map<number, string> } {
  const base = Date.now() - 3 * 86_400_000;
  const kinds = ["impression", "impression", "view", "click", "conversion"];
  const channels = ["google", "facebook", "email"];
  const places = ["US,Austin", "FR,Lyon", "DE,Berlin"];
  const lines = [CSV_HEADER];
  const badLines = new Map<number, string>();
  for (let i = 1; i <= rows; i++) {
    const ts = new Date(base + ((i * 7919 + seed) % 172_800_000)).toISOString();
    if (i % badEvery === 0) {
      const bad = BAD_ROWS[(i / badEvery) % BAD_ROWS.length] as (typeof BAD_ROWS)[number];
      lines.push(bad.make(i, ts));
      badLines.set(i + 1, bad.column);
      continue;
    }
    const kind = kinds[i % kinds.length];
    const cost = kind === "impression" ? "" : `0.${String(i % 1000).padStart(3, "0")}`;
    lines.push(
      `e${seed}-${i},${ts},${kind},${channels[i % 3]},camp-${i % 7},ad-${i % 50},${places[i % 3]},${cost},${kind === "conversion" ? "12.5" : "0"}`,
    );
  }
  return { text: `${lines.join("\n")}\n`, badLines };
}

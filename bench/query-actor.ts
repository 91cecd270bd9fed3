// The query path's actor half under load, through the real broker (time scale 1) and actors host, on real
// Redis (REST bridge) and a throwaway Postgres database, all on loopback:
//   - cold-query overhead: publish → completion event on the tenant's stream, minus the same SQL run
//     directly on its own connection (target: p50 ≤ 15 ms);
//   - noisy neighbour: tenant A floods distinct uncached queries (limit 10 rows); while that flood is queued,
//     tenant B sends its own, one every --b-interval ms. B's p99 against B alone (target ≤ 2x) with per-tenant
//     lanes (flow-control key = tenant), the same without the in-delivery hold (every wait parks and is woken),
//     and through one FIFO lane for everyone (the baseline); requeues (`later` re-dispatches) and wakes per
//     executed query (target ≤ 1). B's time is split at the status record's startedAt: before it, broker,
//     delivery and waiting for permits; after it, the SQL and the finishing script.
//   npm run bench -- query-actor [--cold 200] [--flood 2000] [--b 20] [--b-interval 50] [--warehouse 4] [--limit 4]
//                                [--processes]
// Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (the server to create the throwaway database on).
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import postgres from "postgres";
import { serveActors } from "../actors/host.ts";
import { warehouseKeysFor } from "../actors/lanes/warehouse-semaphore.ts";
import { createLogger } from "../actors/log.ts";
import { type QueryActorConfig, readQueryActorConfig } from "../actors/query/config.ts";
import { createQueryActor } from "../actors/query.ts";
import { keys } from "../src/domain/keys.ts";
import { compileQuery, type Query, queryHash } from "../src/domain/query/index.ts";
import { QUERY_STATUS_TTL_SECONDS, type QueryJobMessage } from "../src/domain/query-jobs.ts";
import { startQStash } from "../src/local/qstash/broker.ts";
import { DEV_CREDENTIALS } from "../src/local/qstash/config.ts";
import { BrokerStore } from "../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../src/local/qstash/store/redis-link.ts";
import { startRedisRest } from "../src/local/redis-rest/index.ts";
import { RespConnection } from "../src/local/resp/index.ts";
import { REPO_ROOT } from "../src/local/services/dev-stack.ts";
import { startChild } from "../src/local/services/supervisor.ts";
import { type ActorsTarget, publishToActor } from "../src/publisher/index.ts";
import { dropDatabase, withDatabaseName } from "../src/warehouse/database.ts";
import { openWarehouse } from "../src/warehouse/db.ts";
import { migrate } from "../src/warehouse/migrate.ts";
import { option } from "./support/output.ts";
import { seedWeekOfEvents } from "./support/seed.ts";
import { percentileOf } from "./support/stats.ts";

const runId = crypto.randomUUID().slice(0, 8);
const tenantIds = { cold: `bench-${runId}-cold`, a: `bench-${runId}-a`, b: `bench-${runId}-b` };

/** Completion events as they land on the tenants' streams, read by one blocking XREAD connection. */
class CompletionWatcher {
  private readonly arrived = new Map<string, { at: number; status: string }>();
  private readonly waiters = new Map<string, () => void>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  done = 0;

  constructor(
    private readonly connection: RespConnection,
    private readonly streams: string[],
  ) {}

  start(): void {
    const ids = this.streams.map(() => "$");
    this.loop = (async () => {
      while (!this.stopped) {
        let reply: unknown;
        try {
          reply = await this.connection.call(["XREAD", "BLOCK", 0, "STREAMS", ...this.streams, ...ids]);
        } catch {
          return; // closed
        }
        const at = performance.now();
        for (const [stream, entries] of (reply ?? []) as [Buffer, [Buffer, Buffer[]][]][]) {
          const index = this.streams.indexOf(stream.toString());
          for (const [id, fields] of entries) {
            ids[index] = id.toString();
            const f = fields.map(String);
            const queryId = f[f.indexOf("queryId") + 1] as string;
            const status = f[f.indexOf("status") + 1] as string;
            if (status === "done") this.done++;
            this.arrived.set(queryId, { at, status });
            this.waiters.get(queryId)?.();
            this.waiters.delete(queryId);
          }
        }
      }
    })();
  }

  /** performance.now() when the query's completion event was read. */
  async waitFor(queryId: string): Promise<number> {
    const seen = this.arrived.get(queryId);
    if (seen) return seen.at;
    await new Promise<void>((resolve) => this.waiters.set(queryId, resolve));
    return (this.arrived.get(queryId) as { at: number }).at;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.connection.close();
    await this.loop;
  }
}

interface Counters {
  later: number;
  wake: number;
}

export async function run(args: string[]): Promise<void> {
  const coldCount = Number(option(args, "--cold") ?? 200);
  const floodCount = Number(option(args, "--flood") ?? 2000);
  const bCount = Number(option(args, "--b") ?? 20);
  const bIntervalMs = Number(option(args, "--b-interval") ?? 50);
  const warehouseConcurrency = Number(option(args, "--warehouse") ?? 4);
  const tenantLimit = Number(option(args, "--limit") ?? 4);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = withDatabaseName(
    process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/fairway",
    `fairway_bench_${runId}`,
  );
  const started = performance.now();

  console.log(
    `query-actor bench ${runId}: warehouse permits ${warehouseConcurrency}, tenant limit ${tenantLimit}, ` +
      `bridge + broker ${args.includes("--processes") ? "in their own processes" : "in this process"}`,
  );
  await migrate(databaseUrl);
  const seedWarehouse = openWarehouse(databaseUrl, { max: 2 });
  for (const tenantId of Object.values(tenantIds))
    await seedWeekOfEvents(seedWarehouse, tenantId, 4000, Date.UTC(2026, 10, 1));
  await seedWarehouse.close();

  const restToken = `bench-${runId}`;
  const brokerPrefix = `bench-query-actor-${runId}`;
  // Bridge and broker in this process by default (fewest hops: on a small machine every extra process
  // competes for the same cores); --processes runs each as its own process, as `npm run dev` does.
  const services = args.includes("--processes")
    ? await childServices(redisUrl, restToken, brokerPrefix)
    : await inProcessServices(redisUrl, restToken, brokerPrefix);
  const bridge = { url: services.bridgeUrl };
  const broker = { url: services.brokerUrl };
  const redis = new Redis({ url: bridge.url, token: restToken });
  const counters: Counters = { later: 0, wake: 0 };
  const config: QueryActorConfig = {
    ...readQueryActorConfig({}),
    warehouseConcurrency,
    warehouseKeys: warehouseKeysFor(`{bench-${runId}}:wh:sem`),
  };
  const hostWarehouse = openWarehouse(databaseUrl, { max: warehouseConcurrency + 2 });
  const startHost = (actorConfig: QueryActorConfig) =>
    serveActors({
      port: 0,
      hostname: "127.0.0.1",
      actors: [createQueryActor(actorConfig)],
      warehouse: hostWarehouse,
      redis,
      qstash: new Client({ baseUrl: broker.url, token: DEV_CREDENTIALS.token, retry: false }),
      receiver: new Receiver({
        currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
        nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
      }),
      log: createLogger({}, (level, line) => {
        if (line.includes('"message":"later"')) counters.later++;
        else if (line.includes('"message":"wake"')) counters.wake++;
        else if (level !== "info") console.error(line);
      }),
    });
  const host = startHost(config);
  // The same actor without the hold: a delivery that finds no permit parks at once and must be woken.
  const parkingHost = startHost({ ...config, holdMs: 0 });
  const holding: ActorsTarget = {
    client: new Client({ baseUrl: broker.url, token: DEV_CREDENTIALS.token, retry: false }),
    actorsUrl: host.publicUrl,
  };
  let target = holding;
  for (const tenantId of [tenantIds.a, tenantIds.b]) {
    await redis.hset(keys.tenant(tenantId), { concurrencyLimit: String(tenantLimit) });
  }
  const watcher = new CompletionWatcher(
    await RespConnection.connect(redisUrl, { name: "bench-query-actor-watch" }),
    Object.values(tenantIds).map((t) => keys.done(t)),
  );
  watcher.start();
  const direct = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { TimeZone: "UTC" } });

  const submit = async (tenantId: string, query: Query, lane: { key: string; parallelism: number }) => {
    const askedAt = Date.now();
    const { hash, canonical } = await queryHash(query, askedAt);
    const queryId = `q${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
    const message: QueryJobMessage = {
      queryId,
      tenantId,
      hash,
      dataVersion: 0,
      query: canonical,
      askedAt,
      cacheTtlSeconds: 60,
      staleGraceSeconds: 60,
    };
    // What the edge writes before it publishes (single-flight key, queued status).
    await Promise.all([
      redis.set(keys.inflight(tenantId, hash), queryId, { ex: 600 }),
      redis.hset(keys.query(tenantId, queryId), {
        status: "queued",
        hash,
        dataVersion: 0,
        createdAt: askedAt,
      }),
      redis.expire(keys.query(tenantId, queryId), QUERY_STATUS_TTL_SECONDS),
    ]);
    const sentAt = performance.now();
    await publishToActor(target, {
      actor: "query",
      body: message,
      flowControl: lane,
      deduplicationId: queryId,
    });
    return { queryId, sentAt };
  };
  const tenantLane = (tenantId: string) => ({ key: tenantId, parallelism: tenantLimit });

  try {
    // 1. Cold-query overhead, one query at a time.
    const overhead: number[] = [];
    const endToEnd: number[] = [];
    const directMs: number[] = [];
    for (let i = -20; i < coldCount; i++) {
      const query = distinctQuery("cold", i);
      const compiled = compileQuery(query, { tenantId: tenantIds.cold, now: Date.now() });
      const t0 = performance.now();
      await direct.unsafe(compiled.text, compiled.params as never[]);
      const sqlMs = performance.now() - t0;
      const { queryId, sentAt } = await submit(tenantIds.cold, query, tenantLane(tenantIds.cold));
      const e2e = (await watcher.waitFor(queryId)) - sentAt;
      if (i < 0) continue; // warm-up
      endToEnd.push(e2e);
      directMs.push(sqlMs);
      overhead.push(e2e - sqlMs);
    }
    console.log("\ncold query (one at a time, ms)");
    table(
      ["", "p50", "p99"],
      [
        ["publish → completion", fmt(percentileOf(endToEnd, 50)), fmt(percentileOf(endToEnd, 99))],
        ["same SQL directly", fmt(percentileOf(directMs, 50)), fmt(percentileOf(directMs, 99))],
        ["overhead (per query)", fmt(percentileOf(overhead, 50)), fmt(percentileOf(overhead, 99))],
      ],
    );
    console.log(`target: overhead p50 ≤ 15 ms → ${percentileOf(overhead, 50) <= 15 ? "met" : "NOT met"}`);

    // 2. Noisy neighbour.
    const sendB = async (tag: string, lane: (t: string) => { key: string; parallelism: number }) => {
      const latencies: number[] = [];
      const phases: { wait: number; run: number }[] = [];
      const pending: Promise<void>[] = [];
      for (let i = 0; i < bCount; i++) {
        pending.push(
          (async () => {
            const { queryId, sentAt } = await submit(
              tenantIds.b,
              distinctQuery(`b-${tag}`, i),
              lane(tenantIds.b),
            );
            latencies.push((await watcher.waitFor(queryId)) - sentAt);
            const status = await redis.hgetall<Record<string, number>>(keys.query(tenantIds.b, queryId));
            const at = (name: string) => Number(status?.[name]);
            phases.push({ wait: at("startedAt") - at("createdAt"), run: at("finishedAt") - at("startedAt") });
          })(),
        );
        await Bun.sleep(bIntervalMs);
      }
      await Promise.all(pending);
      return { latencies, phases };
    };
    const flood = async (tag: string, lane: (t: string) => { key: string; parallelism: number }) => {
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < floodCount) {
            const i = next++;
            ids.push((await submit(tenantIds.a, distinctQuery(`a-${tag}`, i), lane(tenantIds.a))).queryId);
          }
        }),
      );
      return ids;
    };
    const scenario = async (
      tag: string,
      withFlood: boolean,
      lane: (t: string) => { key: string; parallelism: number },
    ) => {
      const before = { ...counters, done: watcher.done };
      const t0 = performance.now();
      const floodIds = withFlood ? await flood(tag, lane) : [];
      const queuedWhenBStarts = floodIds.length - (watcher.done - before.done);
      const { latencies: b, phases } = await sendB(tag, lane);
      for (const id of floodIds) await watcher.waitFor(id);
      const executed = watcher.done - before.done;
      return {
        tag,
        b,
        bWait: percentileOf(
          phases.map((p) => p.wait),
          50,
        ),
        bRun: percentileOf(
          phases.map((p) => p.run),
          50,
        ),
        queuedWhenBStarts,
        floodSeconds: (performance.now() - t0) / 1000,
        executed,
        later: counters.later - before.later,
        wake: counters.wake - before.wake,
      };
    };

    const alone = await scenario("alone", false, tenantLane);
    const lanes = await scenario("lanes", true, tenantLane);
    target = { ...holding, actorsUrl: parkingHost.publicUrl };
    const parking = await scenario("parking", true, tenantLane);
    target = holding;
    const single = await scenario("single", true, () => ({
      key: `bench-${runId}-everyone`,
      parallelism: warehouseConcurrency,
    }));
    const bAloneP99 = percentileOf(alone.b, 99);
    console.log(
      `\nnoisy neighbour: A floods ${floodCount}, B sends ${bCount} (one every ${bIntervalMs} ms) while A's flood is queued`,
    );
    table(
      [
        "scenario",
        "A queued at B's start",
        "B p50 ms",
        "B p99 ms",
        "B p99 / alone",
        "B ask→start p50",
        "B start→done p50",
        "executed",
        "later / executed",
        "wakes / executed",
        "all done s",
      ],
      [alone, lanes, parking, single].map((s) => [
        {
          alone: "B alone",
          lanes: "per-tenant lanes",
          parking: "lanes, no hold (park + wake)",
          single: "one FIFO lane (baseline)",
        }[s.tag] as string,
        String(s.queuedWhenBStarts),
        fmt(percentileOf(s.b, 50)),
        fmt(percentileOf(s.b, 99)),
        `${(percentileOf(s.b, 99) / bAloneP99).toFixed(2)}x`,
        String(s.bWait),
        String(s.bRun),
        String(s.executed),
        (s.later / s.executed).toFixed(3),
        (s.wake / s.executed).toFixed(3),
        s.floodSeconds.toFixed(1),
      ]),
    );
    const ratio = percentileOf(lanes.b, 99) / bAloneP99;
    console.log(
      `target: B p99 within 2x of alone → ${ratio <= 2 ? "met" : "NOT met"} (${ratio.toFixed(2)}x); requeues ≤ 1 per executed query → ${lanes.later / lanes.executed <= 1 ? "met" : "NOT met"}`,
    );
  } finally {
    await watcher.stop();
    await direct.end();
    await host.stop(true);
    await parkingHost.stop(true);
    await services.stopBroker();
    for (const tenantId of Object.values(tenantIds)) {
      const found = await redis.keys(`{t:${tenantId}}*`);
      if (found.length > 0) await redis.del(...found);
    }
    const global = await redis.keys(`{bench-${runId}}*`);
    if (global.length > 0) await redis.del(...global);
    await services.stopBridge();
    const link = await RedisLink.open(redisUrl, "bench-query-actor-cleanup");
    await new BrokerStore(link, brokerPrefix).destroyAll();
    await link.close();
    await hostWarehouse.close();
    await dropDatabase(databaseUrl);
    console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s in all)`);
  }
}

interface Services {
  bridgeUrl: string;
  brokerUrl: string;
  stopBroker(): Promise<unknown>;
  stopBridge(): Promise<unknown>;
}

async function inProcessServices(redisUrl: string, token: string, keyPrefix: string): Promise<Services> {
  const bridge = await startRedisRest({ redisUrl, port: 0, token });
  const broker = await startQStash({ redisUrl, port: 0, keyPrefix, log: () => {} });
  return { bridgeUrl: bridge.url, brokerUrl: broker.url, stopBroker: broker.stop, stopBridge: bridge.stop };
}

async function childServices(redisUrl: string, token: string, keyPrefix: string): Promise<Services> {
  const start = (name: string, file: string, env: Record<string, string>) =>
    startChild({
      name,
      command: [process.execPath, file],
      cwd: REPO_ROOT,
      env: { ...env, REDIS_URL: redisUrl, PORT: "0", HOST: "127.0.0.1" },
      log: () => {},
    });
  const bridge = await start("redis-rest", "src/local/redis-rest/main.ts", { TOKEN: token });
  const broker = await start("qstash", "src/local/qstash/main.ts", { QSTASH_KEY_PREFIX: keyPrefix });
  return {
    bridgeUrl: bridge.url as string,
    brokerUrl: broker.url as string,
    stopBroker: () => broker.stop(),
    stopBridge: () => bridge.stop(),
  };
}

/** Distinct (so uncached) but equally cheap queries: top 10 ads, excluding a campaign that does not exist. */
function distinctQuery(tag: string, i: number): Query {
  return {
    measures: ["clicks", "impressions", "spend"],
    dimensions: ["ad"],
    filters: [{ member: "campaign", operator: "notEquals", values: [`none-${tag}-${i}`] }],
    limit: 10,
  };
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

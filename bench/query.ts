// Cache-hit queries through the whole edge (tenant auth, rate limit, cache read: one Redis round trip through
// the REST bridge) versus a bare Hono route answering the same body, both on Bun, 50 concurrent callers.
//   npm run bench -- query [--seconds 5] [--clients 50] [--runs 1]
// Env: REDIS_URL (redis://127.0.0.1:6379). Target: edge ≥ 25% of bare throughput, edge p99 ≤ 10 ms.
// Also reports each server's CPU time per request, and the bridge's behind the edge (from /proc), which a busy
// machine disturbs far less than throughput; with --runs N each row keeps its best of N runs.
import { cpus, loadavg } from "node:os";
import { Redis } from "@upstash/redis";
import { keys, tenantTag } from "../src/domain/keys.ts";
import { type Query, queryHash } from "../src/domain/query/index.ts";
import type { CachedResult } from "../src/domain/query-jobs.ts";
import {
  hashApiKey,
  newApiKey,
  newTenantId,
  type TenantRecord,
  tenantToHash,
} from "../src/domain/tenants.ts";
import type { RunningChild } from "../src/local/services/supervisor.ts";
import { closedLoop } from "./support/closed-loop.ts";
import { count, option, percent } from "./support/output.ts";
import { cpuMillis, startBenchChild } from "./support/processes.ts";
import { percentile } from "./support/stats.ts";

interface Result {
  target: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server process per request, in microseconds. */
  cpuMicros?: number;
  /** CPU time of the processes behind it (the Redis REST bridge) per request, in microseconds. */
  behindCpuMicros?: number;
}

const BRIDGE_TOKEN = `bench-query-${crypto.randomUUID().slice(0, 8)}`;

const QUERY: Query = {
  measures: ["impressions", "clicks", "spend", "ctr"],
  dimensions: ["channel"],
  timeDimension: { granularity: "day", dateRange: ["2026-11-01", "2026-11-07"] },
  limit: 100,
};

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, "--seconds") ?? 5);
  const clients = Number(option(args, "--clients") ?? 50);
  const runs = Number(option(args, "--runs") ?? 1);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const children: RunningChild[] = [];
  const tenantId = newTenantId();
  const apiKey = newApiKey(tenantId);
  let redis: Redis | undefined;
  try {
    const bridge = await startBenchChild(children, "redis-rest", "src/local/redis-rest/main.ts", {
      REDIS_URL: redisUrl,
      TOKEN: BRIDGE_TOKEN,
    });
    redis = new Redis({ url: bridge, token: BRIDGE_TOKEN });
    const entry = await seed(redis, tenantId, apiKey);
    const edge = await startBenchChild(children, "edge", "src/edge/bun.ts", {
      UPSTASH_REDIS_REST_URL: bridge,
      UPSTASH_REDIS_REST_TOKEN: BRIDGE_TOKEN,
    });
    const expected = JSON.stringify(entry.data);
    const bare = await startBenchChild(children, "bare", "bench/bare-hono.ts", {
      BODY: JSON.stringify({ data: entry.data, meta: { cache: "hit", queryId: entry.queryId } }),
    });

    console.log(
      `query benchmark (cache hits): ${clients} concurrent callers, ${seconds} s per row, Redis ${redisUrl};` +
        ` ${cpus().length} cores, load average ${loadAverage()}`,
    );
    const body = JSON.stringify(QUERY);
    const call = (base: string, key?: string) => async () => {
      const response = await fetch(`${base}/v1/queries`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
      });
      const answer = (await response.json()) as { data?: unknown; meta?: { cache?: string } };
      return (
        response.status === 200 && answer.meta?.cache === "hit" && JSON.stringify(answer.data) === expected
      );
    };
    const [bridgePid, edgePid, barePid] = children.map((running) => running.pid);
    const targets = [
      { name: "edge (auth + rate limit + cache)", call: call(edge, apiKey), pids: [edgePid, bridgePid] },
      { name: "bare Hono route", call: call(bare), pids: [barePid] },
    ];
    const results: Result[] = [];
    for (const target of targets) {
      await measure(target.name, target.call, clients, 1); // warm-up: connections, scripts, JIT
      let best: Result | undefined;
      for (let i = 0; i < runs; i++) {
        const before = target.pids.map(cpuMillis);
        const result = await measure(target.name, target.call, clients, seconds);
        const requests = result.requestsPerSecond * seconds;
        const perRequest = (pid: number | undefined, i: number) =>
          ((cpuMillis(pid) - (before[i] as number)) * 1000) / requests;
        result.cpuMicros = perRequest(target.pids[0], 0);
        if (target.pids.length > 1) result.behindCpuMicros = perRequest(target.pids[1], 1);
        if (!best || result.requestsPerSecond > best.requestsPerSecond) best = result;
      }
      results.push(best as Result);
      console.log(formatRow(best as Result));
    }
    const [full, baseline] = results as [Result, Result];
    // Other work on the machine competes for its cores: p99 moves with it far more than CPU per request does.
    console.log(`load average at the end ${loadAverage()}`);
    const ratio = full.requestsPerSecond / baseline.requestsPerSecond;
    const met = ratio >= 0.25 && full.p99 <= 10 && full.errors === 0;
    console.log();
    console.log(
      `CPU per request: edge ${full.cpuMicros?.toFixed(0)} µs, bare ${baseline.cpuMicros?.toFixed(0)} µs` +
        ` (edge/bare ${((full.cpuMicros ?? 0) / (baseline.cpuMicros ?? 1)).toFixed(1)}x); the bridge behind the edge` +
        ` ${full.behindCpuMicros?.toFixed(0)} µs per edge request`,
    );
    console.log(
      `edge/bare throughput = ${percent(ratio)}, edge p99 = ${full.p99.toFixed(2)} ms` +
        ` (p99 ratio ${(full.p99 / baseline.p99).toFixed(1)}x) — target ≥ 25% and p99 ≤ 10 ms: ${met ? "met" : "NOT met"}`,
    );
  } finally {
    if (redis) {
      const found = await redis.keys(`${tenantTag(tenantId)}*`);
      if (found.length > 0) await redis.del(...found);
    }
    for (const running of children.reverse()) await running.stop();
  }
}

/** A tenant whose rate limit the benchmark cannot reach, and a cached answer for QUERY. */
async function seed(redis: Redis, tenantId: string, apiKey: string): Promise<CachedResult> {
  const record: TenantRecord = {
    id: tenantId,
    name: "bench",
    apiKeyHash: await hashApiKey(apiKey),
    concurrencyLimit: 4,
    rateLimit: 1_000_000,
    rateLimitWindowSeconds: 60,
    createdAt: Date.now(),
    disabledAt: null,
    revision: 1,
  };
  await redis.hset(keys.tenant(tenantId), tenantToHash(record));
  const { hash } = await queryHash(QUERY, Date.now());
  const channels = ["google", "facebook", "twitter", "email", "tiktok", "bing", "reddit"];
  const entry: CachedResult = {
    queryId: `q${"b".repeat(24)}`,
    dataVersion: 0,
    computedAt: Date.now(),
    durationMs: 12,
    source: "ad_rollup_day",
    columns: ["ts", "channel", "impressions", "clicks", "spend", "ctr"],
    data: channels.flatMap((channel, c) =>
      [1, 2, 3].map((day) => ({
        ts: `2026-11-0${day}T00:00:00.000`,
        channel,
        impressions: 1000 * (c + day),
        clicks: 37 * (c + day),
        spend: 12.5 * (c + 1),
        ctr: 0.037,
      })),
    ),
  };
  await redis.set(keys.cache(tenantId, hash), JSON.stringify(entry), { ex: 3600 });
  return entry;
}

async function measure(
  target: string,
  call: () => Promise<boolean>,
  clients: number,
  seconds: number,
): Promise<Result> {
  let errors = 0;
  const loop = await closedLoop(clients, seconds, async () => {
    if (!(await call().catch(() => false))) errors++;
  });
  return {
    target,
    requestsPerSecond: loop.latencies.length / loop.seconds,
    p50: percentile(loop.latencies, 50),
    p99: percentile(loop.latencies, 99),
    errors,
  };
}

function formatRow(r: Result): string {
  const rate = count(r.requestsPerSecond);
  return `${r.target.padEnd(34)} ${rate.padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   errors ${r.errors}   server CPU ${r.cpuMicros?.toFixed(0)} µs/req`;
}

/** The 1-minute load average (it includes this benchmark's own processes once they run). */
function loadAverage(): string {
  return (loadavg()[0] ?? Number.NaN).toFixed(2);
}

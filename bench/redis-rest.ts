// GET / SET throughput and latency through the Redis REST bridge (official @upstash/redis client,
// auto-pipelining on) versus direct TCP clients, 50 concurrent callers each, same machine.
//   npm run bench -- redis-rest [--seconds 5] [--clients 50]
// Env: REDIS_URL (redis://127.0.0.1:6379).
import { Redis } from "@upstash/redis";
import { RedisClient } from "bun";
import { startRedisRest } from "../src/local/redis-rest/index.ts";
import { RespConnection } from "../src/local/resp/index.ts";
import type { RunningChild } from "../src/local/services/supervisor.ts";
import { closedLoop } from "./support/closed-loop.ts";
import { count, option, percent } from "./support/output.ts";
import { startBenchChild } from "./support/processes.ts";
import { percentile } from "./support/stats.ts";

type Op = "get" | "set";

interface Target {
  name: string;
  /** Share of `--seconds` this target runs for; secondary rows run shorter to bound the total. */
  share?: number;
  call(op: Op, key: string, value: string): Promise<unknown>;
}

interface Result {
  target: string;
  op: Op;
  opsPerSecond: number;
  p50: number;
  p99: number;
}

const TOKEN = "fairway-bench-token";

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, "--seconds") ?? 5);
  const clients = Number(option(args, "--clients") ?? 50);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prefix = `bench:redis-rest:${crypto.randomUUID().slice(0, 8)}:`;
  const value = "v".repeat(64);

  const children: RunningChild[] = [];
  const bridgeUrl = await startBenchChild(children, "redis-rest", "src/local/redis-rest/main.ts", {
    REDIS_URL: redisUrl,
    TOKEN,
  });
  const inProcess = await startRedisRest({ redisUrl, port: 0, token: TOKEN });
  const direct = new RedisClient(redisUrl);
  const resp = await RespConnection.connect(redisUrl);
  const viaChild = new Redis({ url: bridgeUrl, token: TOKEN, enableAutoPipelining: true });
  const viaInProcess = new Redis({ url: inProcess.url, token: TOKEN, enableAutoPipelining: true });

  const targets: Target[] = [
    { name: "bridge (separate process)", call: upstashCall(viaChild) },
    { name: "bridge (in-process)", call: upstashCall(viaInProcess), share: 0.5 },
    {
      name: "direct: Bun RedisClient",
      call: (op, key, v) => (op === "get" ? direct.get(key) : direct.set(key, v)),
    },
    {
      name: "direct: RespConnection",
      call: (op, key, v) => resp.send(op === "get" ? ["GET", key] : ["SET", key, v]),
    },
  ];

  console.log(`redis-rest benchmark: ${clients} concurrent callers, ${seconds} s per row, Redis ${redisUrl}`);
  const results: Result[] = [];
  try {
    for (const target of targets) {
      for (const op of ["set", "get"] as Op[]) {
        await measure(target, op, clients, 0.5, prefix, value); // warm-up
        const result = await measure(target, op, clients, seconds * (target.share ?? 1), prefix, value);
        results.push(result);
        console.log(formatRow(result));
      }
    }
  } finally {
    const keys = Array.from({ length: clients }, (_, i) => `${prefix}${i}`);
    await resp.call(["DEL", ...keys]);
    await resp.close();
    direct.close();
    await inProcess.stop();
    for (const running of children) await running.stop();
  }

  console.log();
  for (const op of ["set", "get"] as Op[]) {
    const bridge = find(results, "bridge (separate process)", op);
    const baseline = find(results, "direct: Bun RedisClient", op);
    const fastest = find(results, "direct: RespConnection", op);
    const ratio = bridge.opsPerSecond / baseline.opsPerSecond;
    const meets = ratio >= 0.3 && bridge.opsPerSecond >= 40_000;
    console.log(
      `${op.toUpperCase()}: bridge/direct (Bun RedisClient) = ${percent(ratio)}` +
        ` (${count(bridge.opsPerSecond)} vs ${count(baseline.opsPerSecond)} ops/s)` +
        ` — target ≥ 30% and ≥ 40,000 ops/s: ${meets ? "met" : "NOT met"};` +
        ` bridge/RespConnection = ${percent(bridge.opsPerSecond / fastest.opsPerSecond)}`,
    );
  }
}

function upstashCall(redis: Redis): Target["call"] {
  return (op, key, value) => (op === "get" ? redis.get(key) : redis.set(key, value));
}

/** `clients` async loops calling back-to-back for `seconds`; latency per call in ms. */
async function measure(
  target: Target,
  op: Op,
  clients: number,
  seconds: number,
  prefix: string,
  value: string,
): Promise<Result> {
  const loop = await closedLoop(clients, seconds, async (client) => {
    await target.call(op, `${prefix}${client}`, value);
  });
  const { latencies } = loop;
  return {
    target: target.name,
    op,
    opsPerSecond: latencies.length / loop.seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function find(results: Result[], target: string, op: Op): Result {
  const found = results.find((r) => r.target === target && r.op === op);
  if (found === undefined) throw new Error(`no result for ${target} ${op}`);
  return found;
}

function formatRow(r: Result): string {
  return `${r.target.padEnd(28)} ${r.op.toUpperCase().padEnd(4)} ${count(r.opsPerSecond).padStart(10)} ops/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms`;
}

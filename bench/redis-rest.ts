// GET / SET throughput and latency through the Redis REST bridge (official @upstash/redis client,
// auto-pipelining on) versus direct TCP clients, 50 concurrent callers each, same machine.
//   npm run bench -- redis-rest [--seconds 5] [--clients 50]
// Env: REDIS_URL (redis://127.0.0.1:6379).
import { Redis } from "@upstash/redis";
import { RedisClient } from "bun";
import { startRedisRest } from "../src/local/redis-rest/index.ts";
import { RespConnection } from "../src/local/resp/index.ts";

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

  const child = await spawnBridge(redisUrl);
  const inProcess = await startRedisRest({ redisUrl, port: 0, token: TOKEN });
  const direct = new RedisClient(redisUrl);
  const resp = await RespConnection.connect(redisUrl);
  const viaChild = new Redis({ url: child.url, token: TOKEN, enableAutoPipelining: true });
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
    child.stop();
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
        ` (${fmt(bridge.opsPerSecond)} vs ${fmt(baseline.opsPerSecond)} ops/s)` +
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
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const key = `${prefix}${i}`;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await target.call(op, key, value);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { target: target.name, op, opsPerSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function spawnBridge(redisUrl: string): Promise<{ url: string; stop(): void }> {
  const child = Bun.spawn([process.execPath, "src/local/redis-rest/main.ts"], {
    env: { ...process.env, REDIS_URL: redisUrl, PORT: "0", TOKEN },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let seen = "";
  const decoder = new TextDecoder();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`redis-rest exited before it was ready: ${seen}`);
    seen += decoder.decode(value);
    const ready = /ready (http\S+)/.exec(seen);
    if (ready) {
      reader.releaseLock();
      return { url: ready[1] as string, stop: () => child.kill("SIGTERM") };
    }
  }
}

function find(results: Result[], target: string, op: Op): Result {
  const found = results.find((r) => r.target === target && r.op === op);
  if (found === undefined) throw new Error(`no result for ${target} ${op}`);
  return found;
}

function formatRow(r: Result): string {
  return `${r.target.padEnd(28)} ${r.op.toUpperCase().padEnd(4)} ${fmt(r.opsPerSecond).padStart(10)} ops/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

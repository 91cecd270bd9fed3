// End-to-end deliveries per second and publish-to-handler latency through the local QStash broker into
// the actors host (signature verified by the official Receiver, message validated), against two baselines
// measured in the same run, on the same machine and Redis:
//   - plain HTTP: the same process POSTs the same (signed) message straight to the same actor route;
//   - BullMQ (Queue + Worker, concurrency 50, default driver), what a self-hosting user would pick instead.
// Each row: `--clients` concurrent publishers for `--seconds`, then the backlog drains (throughput =
// handled / time to the last one handled), and an idle run: one message at a time (latency only).
//   npm run bench -- broker [--seconds 4] [--clients 50] [--idle 300]
// Env: REDIS_URL (redis://127.0.0.1:6379).
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { Queue, Worker } from "bullmq";
import IORedis from "ioredis";
import { z } from "zod";
import { defineActor } from "../actors/define.ts";
import { serveActors } from "../actors/host.ts";
import { createLogger } from "../actors/log.ts";
import { ok } from "../actors/outcome.ts";
import { DEV_CREDENTIALS } from "../src/local/qstash/config.ts";
import { DeliverySigner } from "../src/local/qstash/delivery/signature.ts";
import { BrokerStore } from "../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../src/local/qstash/store/redis-link.ts";
import type { RunningChild } from "../src/local/services/supervisor.ts";
import { count, option, percent } from "./support/output.ts";
import { startBenchChild } from "./support/processes.ts";
import { percentile, sortAscending } from "./support/stats.ts";

interface Row {
  name: string;
  perSecond: number;
  /** Publish-to-handler latency under load. */
  loadP50: number;
  loadP99: number;
  /** Publish-to-handler latency with one message at a time. */
  idleP50: number;
  idleP99: number;
}

/** Something that carries `{n, sentAt}` to the handler; `handled(n, sentAt)` must be called there. */
interface Path {
  name: string;
  send(n: number, sentAt: number): Promise<unknown>;
}

/** Counts handled messages and wakes whoever waits for a given one. */
class Tally {
  handled = 0;
  lastAt = 0;
  latencies: number[] = [];
  private waiters = new Map<number, () => void>();

  record(n: number, sentAt: number): void {
    const now = performance.now();
    this.handled++;
    this.lastAt = now;
    this.latencies.push(now - sentAt);
    this.waiters.get(n)?.();
    this.waiters.delete(n);
  }

  waitFor(n: number): Promise<void> {
    return new Promise((resolve) => this.waiters.set(n, resolve));
  }

  reset(): void {
    this.handled = 0;
    this.lastAt = 0;
    this.latencies = [];
  }
}

const tally = new Tally();
const benchMessage = z.object({ n: z.number().int(), sentAt: z.number() });
const benchActor = defineActor({
  name: "bench",
  schema: benchMessage,
  async handler(message) {
    tally.record(message.n, message.sentAt);
    return ok();
  },
});

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, "--seconds") ?? 4);
  const clients = Number(option(args, "--clients") ?? 50);
  const idleCount = Number(option(args, "--idle") ?? 300);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const keyPrefix = `bench-qstash-${crypto.randomUUID().slice(0, 8)}`;
  const bullName = `bench-bullmq-${crypto.randomUUID().slice(0, 8)}`;

  const children: RunningChild[] = [];
  const brokerUrl = await startBenchChild(children, "qstash", "src/local/qstash/main.ts", {
    REDIS_URL: redisUrl,
    QSTASH_KEY_PREFIX: keyPrefix,
  });
  const qstash = new Client({ baseUrl: brokerUrl, token: DEV_CREDENTIALS.token, retry: false });
  const host = serveActors({
    port: 0,
    hostname: "127.0.0.1",
    actors: [benchActor],
    // The bench actor touches neither the warehouse nor Redis.
    warehouse: { db: undefined as never, sql: undefined as never },
    redis: new Redis({ url: "http://127.0.0.1:9", token: "unused" }),
    qstash,
    receiver: new Receiver({
      currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
      nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
    }),
    log: createLogger({}, () => {}),
  });
  const actorUrl = `${host.publicUrl}/actors/bench`;
  const signer = new DeliverySigner(DEV_CREDENTIALS.currentSigningKey);

  // BullMQ's default driver; the worker's blocking connection needs maxRetriesPerRequest: null.
  const bullConnection = () => new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(bullName, {
    connection: bullConnection(),
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  const worker = new Worker(
    bullName,
    async (job) => {
      tally.record(job.data.n, job.data.sentAt);
    },
    { connection: bullConnection(), concurrency: clients },
  );
  await worker.waitUntilReady();

  const paths: Path[] = [
    {
      name: "plain HTTP POST → actor",
      async send(n, sentAt) {
        const body = new TextEncoder().encode(JSON.stringify({ n, sentAt }));
        const response = await fetch(actorUrl, {
          method: "POST",
          body,
          headers: {
            "Content-Type": "application/json",
            "Upstash-Message-Id": `plain_${n}`,
            "Upstash-Retried": "0",
            "Upstash-Signature": signer.sign(actorUrl, body),
          },
        });
        if (!response.ok) throw new Error(`actor answered ${response.status}`);
        await response.arrayBuffer();
      },
    },
    {
      name: "QStash broker → actor",
      send: (n, sentAt) => qstash.publishJSON({ url: actorUrl, body: { n, sentAt } }),
    },
    {
      name: `BullMQ (concurrency ${clients})`,
      send: (n, sentAt) => queue.add("bench", { n, sentAt }),
    },
  ];

  console.log(
    `broker benchmark: ${clients} concurrent publishers for ${seconds} s per row, then ${idleCount} messages one at a time; Redis ${redisUrl}`,
  );
  const rows: Row[] = [];
  try {
    for (const path of paths) {
      await measureLoad(path, clients, 0.5); // warm-up: connections, scripts, JIT
      const load = await measureLoad(path, clients, seconds);
      const idle = await measureIdle(path, idleCount);
      const row = { name: path.name, ...load, ...idle };
      rows.push(row);
      console.log(formatRow(row));
    }
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await host.stop(true);
    for (const running of children) await running.stop();
    const redis = await RedisLink.open(redisUrl, "bench-cleanup");
    await new BrokerStore(redis, keyPrefix).destroyAll();
    await redis.close();
  }

  const [plain, viaBroker, bull] = rows as [Row, Row, Row];
  const throughputRatio = viaBroker.perSecond / bull.perSecond;
  const addedP50 = viaBroker.idleP50 - plain.idleP50;
  console.log();
  console.log(
    `throughput: broker/BullMQ = ${percent(throughputRatio)} (${count(viaBroker.perSecond)} vs ${count(bull.perSecond)} deliveries/s)` +
      ` — target ≥ 25%: ${throughputRatio >= 0.25 ? "met" : "NOT met"}; broker/plain HTTP = ${percent(viaBroker.perSecond / plain.perSecond)}`,
  );
  console.log(
    `idle latency added by the broker (p50, vs plain HTTP): ${addedP50.toFixed(2)} ms — target < 5 ms: ${addedP50 < 5 ? "met" : "NOT met"};` +
      ` BullMQ idle p50 ${bull.idleP50.toFixed(2)} ms`,
  );
}

/** `clients` loops send back-to-back for `seconds`, then waits for every message to be handled. */
async function measureLoad(path: Path, clients: number, seconds: number) {
  tally.reset();
  let sent = 0;
  let n = 1_000_000_000;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        sent++;
        await path.send(n++, performance.now());
      }
    }),
  );
  const drainDeadline = performance.now() + 60_000;
  while (tally.handled < sent) {
    if (performance.now() > drainDeadline)
      throw new Error(`${path.name}: ${sent - tally.handled} never handled`);
    await Bun.sleep(5);
  }
  const latencies = sortAscending(tally.latencies);
  return {
    perSecond: tally.handled / ((tally.lastAt - started) / 1000),
    loadP50: percentile(latencies, 50),
    loadP99: percentile(latencies, 99),
  };
}

/** One message at a time: publish, wait until the handler has it, repeat. */
async function measureIdle(path: Path, count: number) {
  tally.reset();
  for (let n = 0; n < count; n++) {
    const handled = tally.waitFor(n);
    await path.send(n, performance.now());
    await handled;
  }
  const latencies = sortAscending(tally.latencies);
  return { idleP50: percentile(latencies, 50), idleP99: percentile(latencies, 99) };
}

function formatRow(r: Row): string {
  return (
    `${r.name.padEnd(26)} ${count(r.perSecond).padStart(7)} deliveries/s` +
    `   load p50 ${r.loadP50.toFixed(2).padStart(7)} ms  p99 ${r.loadP99.toFixed(2).padStart(7)} ms` +
    `   idle p50 ${r.idleP50.toFixed(2).padStart(5)} ms  p99 ${r.idleP99.toFixed(2).padStart(5)} ms`
  );
}

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import {
  coalescingTransport,
  directTransport,
  RedisBatch,
  RedisCommandError,
} from "../../../src/edge/services/redis-batch.ts";
import { type RedisRest, startRedisRest } from "../../../src/local/redis-rest/index.ts";
import { freePort } from "../../../src/local/services/ports.ts";

const TOKEN = `batch-${crypto.randomUUID()}`;
const prefix = `fairway-test:batch:${crypto.randomUUID().slice(0, 8)}`;
let bridge: RedisRest;
let proxy: ReturnType<typeof Bun.serve>;
let redis: Redis;
const requests: string[] = [];
/** Added to every proxied request, to keep requests in flight. */
let proxyDelayMs = 0;

beforeAll(async () => {
  bridge = await startRedisRest({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port: 0,
    token: TOKEN,
  });
  // Counts the REST requests on their way to the bridge.
  proxy = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push(path);
      if (proxyDelayMs > 0) await Bun.sleep(proxyDelayMs);
      return fetch(`${bridge.url}${path}`, {
        method: "POST",
        headers: request.headers,
        body: await request.text(),
      });
    },
  });
  redis = new Redis({ url: proxy.url.href.replace(/\/$/, ""), token: TOKEN, responseEncoding: false });
  await redis.mset({ [`${prefix}:a`]: "1", [`${prefix}:b`]: "2", [`${prefix}:text`]: "hello" });
});

afterAll(async () => {
  await redis.del(`${prefix}:a`, `${prefix}:b`, `${prefix}:text`);
  proxy.stop(true);
  await bridge.stop();
});

function batchOf(transport = directTransport(redis)) {
  const batch = new RedisBatch(redis, transport);
  return {
    batch,
    a: batch.queue(["get", `${prefix}:a`]),
    b: batch.queue(["get", `${prefix}:b`]),
    broken: batch.queue(["incr", `${prefix}:text`]),
  };
}

describe("RedisBatch", () => {
  test("one request for all its commands; a command's error rejects only that command", async () => {
    requests.length = 0;
    const { batch, a, b, broken } = batchOf();
    await batch.send();
    expect(requests).toEqual(["/pipeline"]);
    // Replies as Redis gave them: stored text stays text.
    expect(await a).toBe("1");
    expect(await b).toBe("2");
    await expect(broken).rejects.toBeInstanceOf(RedisCommandError);
    expect(() => batch.queue(["get", "x"])).toThrow("already sent");
  });

  test("commands added for a reply by index share the request with queued ones; an error reply throws on reading", async () => {
    requests.length = 0;
    const batch = new RedisBatch(redis, directTransport(redis));
    const b = batch.queue(["get", `${prefix}:b`]);
    const a = batch.add(["get", `${prefix}:a`]);
    const broken = batch.add(["incr", `${prefix}:text`]);
    const missing = batch.add(["get", `${prefix}:missing`]);
    expect(() => batch.reply(a)).toThrow("not been answered");
    await batch.send();
    expect(requests).toEqual(["/pipeline"]);
    expect(await b).toBe("2");
    expect(batch.reply(a)).toBe("1");
    expect(batch.reply(missing)).toBeNull();
    expect(() => batch.reply(broken)).toThrow(RedisCommandError);
    expect(() => batch.add(["get", "x"])).toThrow("already sent");
  });

  test("a coalescing transport sends the batches of one event-loop turn as one request, each its own replies", async () => {
    const transport = coalescingTransport(redis);
    requests.length = 0;
    const batches = Array.from({ length: 20 }, () => batchOf(transport));
    await Promise.all(batches.map(({ batch }) => batch.send()));
    expect(requests).toEqual(["/pipeline"]);
    for (const { a, b, broken } of batches) {
      expect(await a).toBe("1");
      expect(await b).toBe("2");
      await expect(broken).rejects.toBeInstanceOf(RedisCommandError);
    }
  });

  test("batches arriving while requests are in flight wait for a free slot and go together", async () => {
    const transport = coalescingTransport(redis, 1);
    requests.length = 0;
    proxyDelayMs = 100;
    try {
      const first = batchOf(transport);
      const firstSent = first.batch.send();
      await new Promise((resolve) => setImmediate(resolve)); // the first request is out (in flight)
      const later: ReturnType<typeof batchOf>[] = [];
      for (let turn = 0; turn < 5; turn++) {
        later.push(batchOf(transport));
        void later[turn]?.batch.send();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await firstSent;
      await Promise.all(later.map(({ a }) => a));
      // Five event-loop turns' batches, held while the first was out, went as one request.
      expect(requests).toEqual(["/pipeline", "/pipeline"]);
      for (const { a, b, broken } of [first, ...later]) {
        expect(await a).toBe("1");
        expect(await b).toBe("2");
        await expect(broken).rejects.toBeInstanceOf(RedisCommandError);
      }
    } finally {
      proxyDelayMs = 0;
    }
  });

  test("when Redis cannot be reached, every coalesced batch fails, and none hangs", async () => {
    const down = new Redis({ url: `http://127.0.0.1:${await freePort()}`, token: "x", retry: false });
    const transport = coalescingTransport(down);
    const batches = Array.from({ length: 3 }, () => new RedisBatch(down, transport));
    for (const batch of batches) batch.queue(["get", "k"]);
    const outcomes = await Promise.allSettled(batches.map((batch) => batch.send()));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
  });
});

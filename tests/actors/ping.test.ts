import { afterAll, beforeAll, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { pingActor } from "../../actors/ping.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { deliver, readJson, startTestHost, type TestHost } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TOKEN = `ping-test-${crypto.randomUUID()}`;
const prefix = `fairway-test:ping:${crypto.randomUUID()}`;

let bridge: RedisRest;
let host: TestHost;
let redis: Redis;

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN });
  host = startTestHost({ actors: [pingActor], redisRestUrl: bridge.url, redisRestToken: TOKEN });
});
afterAll(async () => {
  await redis.del(`${prefix}:receipt`);
  await host.close();
  await bridge.stop();
});

test("ping echoes and records its receipt in the Redis key the message names", async () => {
  const key = `${prefix}:receipt`;
  const response = await deliver(host, "ping", {
    body: JSON.stringify({ echo: "hello", recordKey: key }),
    headers: { "Upstash-Message-Id": "msg_ping_1", "Upstash-Retried": "1" },
  });
  expect(response.status).toBe(200);
  expect(await readJson(response)).toEqual({ pong: "hello" });
  expect(await redis.get(key)).toEqual({ echo: "hello", messageId: "msg_ping_1", retried: 1 });
  expect(await redis.ttl(key)).toBeGreaterThan(3000);
});

test("ping without a record key only echoes; a record key of the wrong type is 489", async () => {
  const plain = await deliver(host, "ping", { body: JSON.stringify({ echo: "x" }) });
  expect(plain.status).toBe(200);
  const wrong = await deliver(host, "ping", { body: JSON.stringify({ echo: "x", recordKey: 7 }) });
  expect(wrong.status).toBe(489);
  expect((await readJson(wrong)).field).toBe("recordKey");
});

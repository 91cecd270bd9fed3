// publisher → QStash broker (real, on real Redis) → actors host → handler, all over real HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { z } from "zod";
import { type Delivery, defineActor } from "../../actors/define.ts";
import { later, ok, retry } from "../../actors/outcome.ts";
import { pingActor } from "../../actors/ping.ts";
import { type QStashBroker, startQStash } from "../../src/local/qstash/broker.ts";
import { BrokerStore } from "../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../src/local/qstash/store/redis-link.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { type ActorsTarget, publishRawToActor, publishToActor } from "../../src/publisher/index.ts";
import { waitFor } from "../support/wait.ts";
import { QSTASH_TOKEN, readJson, startTestHost, type TestHost } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const run = crypto.randomUUID().slice(0, 8);
const BROKER_PREFIX = `test-actors-e2e-${run}`;
const REDIS_PREFIX = `fairway-test:e2e:${run}`;
const REST_TOKEN = `e2e-${run}`;

// Every delivery each test actor saw, by the `key` in its message.
const seen = new Map<string, Delivery[]>();
const record = (key: string, delivery: Delivery) => seen.set(key, [...(seen.get(key) ?? []), delivery]);
const keyed = z.object({ key: z.string(), times: z.number().int().nonnegative() });

/** Answers "retry" `times` times, then succeeds. */
const flakyActor = defineActor({
  name: "flaky",
  schema: keyed,
  async handler(message, ctx) {
    record(message.key, ctx.delivery);
    return ctx.delivery.retried < message.times
      ? retry("not yet")
      : ok({ attempts: ctx.delivery.retried + 1 });
  },
});

/** Asks to be dispatched again `times` times, then succeeds. */
const patientActor = defineActor({
  name: "patient",
  schema: keyed,
  async handler(message, ctx) {
    record(message.key, ctx.delivery);
    return ctx.delivery.laterCount < message.times
      ? later(1, "no permit yet", {
          retries: 0,
          flowControl: { key: `${REDIS_PREFIX}:lane`, parallelism: 1 },
        })
      : ok();
  },
});

let bridge: RedisRest;
let broker: QStashBroker;
let host: TestHost;
let redis: Redis;
let target: ActorsTarget;

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: REST_TOKEN });
  // 0.01: QStash's 12 s first backoff becomes 120 ms, a 1 s `later` 10 ms.
  broker = await startQStash({
    redisUrl: REDIS_URL,
    port: 0,
    keyPrefix: BROKER_PREFIX,
    timeScale: 0.01,
    log: () => {},
  });
  host = startTestHost({
    actors: [pingActor, flakyActor, patientActor],
    qstashUrl: broker.url,
    redisRestUrl: bridge.url,
    redisRestToken: REST_TOKEN,
  });
  redis = new Redis({ url: bridge.url, token: REST_TOKEN });
  target = {
    client: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
    actorsUrl: host.publicUrl,
  };
});

afterAll(async () => {
  await host.close();
  await broker.stop();
  const keys = await redis.keys(`${REDIS_PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await bridge.stop();
  const link = await RedisLink.open(REDIS_URL, "actors-e2e-cleanup");
  await new BrokerStore(link, BROKER_PREFIX).destroyAll();
  await link.close();
});

describe("publisher → broker → actors host", () => {
  test("a ping published with the publisher is delivered, verified and recorded in Redis", async () => {
    const recordKey = `${REDIS_PREFIX}:ping`;
    const { messageId, deduplicated } = await publishToActor(target, {
      actor: "ping",
      body: { echo: "hello through QStash", recordKey },
      flowControl: { key: `${REDIS_PREFIX}:tenant`, parallelism: 2 },
    });
    expect(deduplicated).toBe(false);
    const receipt = await waitFor(
      "the ping receipt",
      async () => (await redis.get<Record<string, unknown>>(recordKey)) ?? undefined,
    );
    expect(receipt).toEqual({ echo: "hello through QStash", messageId, retried: 0 });
  });

  test("a duplicate deduplication id is accepted once and delivered once", async () => {
    const key = `dedup-${run}`;
    const body = JSON.stringify({ key, times: 0 });
    const first = await publishRawToActor(target, "flaky", body, { deduplicationId: key });
    const second = await publishRawToActor(target, "flaky", body, { deduplicationId: key });
    expect(second).toEqual({ messageId: first.messageId, deduplicated: true });
    await waitFor("the delivery", () => seen.get(key));
    await Bun.sleep(200); // a second message would have been delivered by now: delivery takes milliseconds
    expect(seen.get(key)?.length).toBe(1);
  });

  test("a handler that fails twice is retried by the broker and succeeds on the third attempt", async () => {
    const key = `flaky-${run}`;
    const { messageId } = await publishRawToActor(target, "flaky", JSON.stringify({ key, times: 2 }));
    const deliveries = await waitFor("three attempts", () => {
      const list = seen.get(key) ?? [];
      return list.length >= 3 ? list : undefined;
    });
    expect(deliveries.map((d) => d.retried)).toEqual([0, 1, 2]);
    expect(deliveries.every((d) => d.messageId === messageId)).toBe(true);
    const { messages } = await target.client.dlq.listMessages();
    expect(messages.find((m) => m.messageId === messageId)).toBeUndefined();
  });

  test("a handler that keeps failing goes to the DLQ once its retries are spent", async () => {
    const key = `exhausted-${run}`;
    const { messageId } = await publishRawToActor(target, "flaky", JSON.stringify({ key, times: 99 }), {
      retries: 1,
    });
    const dead = await waitFor("the DLQ entry", async () => {
      const { messages } = await target.client.dlq.listMessages();
      return messages.find((m) => m.messageId === messageId);
    });
    expect(dead.responseStatus).toBe(500);
    expect(seen.get(key)?.map((d) => d.retried)).toEqual([0, 1]);
  });

  test("later re-dispatches through the broker without spending retries (retries: 0, three waits)", async () => {
    const key = `patient-${run}`;
    const { messageId } = await publishRawToActor(target, "patient", JSON.stringify({ key, times: 3 }), {
      retries: 0,
    });
    const deliveries = await waitFor("four deliveries", () => {
      const list = seen.get(key) ?? [];
      return list.length >= 4 ? list : undefined;
    });
    expect(deliveries.map((d) => d.laterCount)).toEqual([0, 1, 2, 3]);
    expect(deliveries.map((d) => d.retried)).toEqual([0, 0, 0, 0]);
    expect(deliveries.every((d) => d.originMessageId === messageId)).toBe(true);
    expect(new Set(deliveries.map((d) => d.messageId)).size).toBe(4);
    await Bun.sleep(200);
    expect(seen.get(key)?.length).toBe(4);
  });

  test("a malformed message goes straight to the DLQ after one attempt", async () => {
    const key = `malformed-${run}`;
    const { messageId } = await publishRawToActor(target, "flaky", JSON.stringify({ key, times: "two" }));
    const dead = await waitFor("the DLQ entry", async () => {
      const { messages } = await target.client.dlq.listMessages();
      return messages.find((m) => m.messageId === messageId);
    });
    expect(dead.responseStatus).toBe(489);
    expect(JSON.parse(dead.responseBody ?? "{}").field).toBe("times");
    expect(seen.get(key)).toBeUndefined();
  });
});

describe("signatures minted by the broker", () => {
  test("are accepted for the route they were minted for and refused on another", async () => {
    // Capture a real delivery: the broker delivers to a recorder whose URL is the host's public URL.
    const captured: { signature: string; body: string }[] = [];
    const recorder = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        captured.push({
          signature: request.headers.get("Upstash-Signature") ?? "",
          body: await request.text(),
        });
        return new Response("ok");
      },
    });
    const publicUrl = recorder.url.href.replace(/\/+$/, "");
    const replayHost = startTestHost({ actors: [pingActor, flakyActor], publicUrl });
    try {
      await publishToActor(
        { ...target, actorsUrl: publicUrl },
        { actor: "ping", body: { echo: "captured" } },
      );
      const { signature, body } = await waitFor("the captured delivery", () => captured[0]);

      const headers = { "Content-Type": "application/json", "Upstash-Signature": signature };
      const right = await fetch(`${replayHost.url}/actors/ping`, { method: "POST", headers, body });
      expect(right.status).toBe(200);
      expect(await readJson(right)).toEqual({ pong: "captured" });

      const wrong = await fetch(`${replayHost.url}/actors/flaky`, { method: "POST", headers, body });
      expect(wrong.status).toBe(401);
      expect((await readJson(wrong)).error).toContain("invalid subject");
    } finally {
      await replayHost.close();
      await recorder.stop(true);
    }
  });
});

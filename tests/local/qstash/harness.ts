import { Client, Receiver } from "@upstash/qstash";
import { type QStashBroker, startQStash } from "../../../src/local/qstash/broker.ts";
import { DEV_CREDENTIALS, type QStashOptions } from "../../../src/local/qstash/config.ts";
import { BrokerStore } from "../../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../../src/local/qstash/store/redis-link.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const receiver = new Receiver({
  currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
  nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
});

/** One request the test receiver got. */
export interface Delivery {
  path: string;
  url: string;
  method: string;
  headers: Headers;
  body: Uint8Array;
  text: string;
  /** Whether the official Receiver accepted the signature for this very URL. */
  verified: boolean;
  at: number;
}

type Reply = Response | Promise<Response>;

/** A real HTTP destination on a free port that records every delivery and answers as told per path. */
export function startReceiver(
  answer: (delivery: Delivery, seen: Delivery[]) => Reply = () => new Response("ok"),
) {
  const deliveries: Delivery[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = new Uint8Array(await request.arrayBuffer());
      const text = new TextDecoder().decode(body);
      let verified = false;
      try {
        verified = await receiver.verify({
          signature: request.headers.get("Upstash-Signature") ?? "",
          body: text,
          url: request.url,
        });
      } catch {
        verified = false;
      }
      const delivery: Delivery = {
        path: new URL(request.url).pathname,
        url: request.url,
        method: request.method,
        headers: request.headers,
        body,
        text,
        verified,
        at: performance.now(),
      };
      deliveries.push(delivery);
      return answer(
        delivery,
        deliveries.filter((seen) => seen.path === delivery.path),
      );
    },
  });
  return {
    deliveries,
    url: (path: string) => `http://127.0.0.1:${server.port}${path}`,
    at: (path: string) => deliveries.filter((delivery) => delivery.path === path),
    stop: () => server.stop(true),
  };
}

export type TestReceiver = ReturnType<typeof startReceiver>;

export function uniquePrefix(name: string): string {
  return `test-qstash-${name}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A broker on real Redis under a fresh key prefix, plus an official client for it. */
export async function startTestBroker(options: Partial<QStashOptions> & { keyPrefix: string }) {
  const broker: QStashBroker = await startQStash({
    redisUrl: REDIS_URL,
    port: 0,
    timeScale: 0.01,
    log: () => {},
    ...options,
  });
  const client = new Client({ baseUrl: broker.url, token: DEV_CREDENTIALS.token, retry: false });
  return { broker, client };
}

/** Removes every key under a prefix. */
export async function deleteKeys(keyPrefix: string): Promise<void> {
  const redis = await RedisLink.open(REDIS_URL, "qstash-test-cleanup");
  await new BrokerStore(redis, keyPrefix).destroyAll();
  await redis.close();
}

/** The element at `index`, failing the test when it is missing. */
export function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`expected at least ${index + 1} item(s), got ${items.length}`);
  return item;
}

/** Milliseconds between two consecutive deliveries. */
export function gap(deliveries: readonly { at: number }[], index: number): number {
  return nth(deliveries, index).at - nth(deliveries, index - 1).at;
}

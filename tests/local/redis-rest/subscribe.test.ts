import { afterAll, beforeAll, expect, test } from "bun:test";
import { type BridgeFixture, startBridge, token } from "./bridge.ts";

let fx: BridgeFixture;

beforeAll(async () => {
  fx = await startBridge("subscribe");
});
afterAll(() => fx.close());

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

async function subscribers(channel: string): Promise<number> {
  const reply = (await fx.direct.call(["PUBSUB", "NUMSUB", channel])) as [Buffer, number];
  return reply[1];
}

test("subscribe() receives a message published by another client; unsubscribe closes the Redis connection", async () => {
  const channel = fx.key("news");
  const subscriber = fx.redis.subscribe<{ ad: string; clicks: number }>(channel);
  const counts: number[] = [];
  subscriber.on("subscribe", (count) => counts.push(count));
  const received = new Promise<{ channel: string; message: { ad: string; clicks: number } }>((resolve) =>
    subscriber.on("message", resolve),
  );
  await until(async () => (await subscribers(channel)) === 1, "the subscription");
  expect(await fx.client().publish(channel, { ad: "ad-1", clicks: 3 })).toBe(1);
  expect(await received).toEqual({ channel, message: { ad: "ad-1", clicks: 3 } });
  expect(counts).toEqual([1]);

  await subscriber.unsubscribe();
  await until(async () => (await subscribers(channel)) === 0, "the Redis connection to close");
});

test("psubscribe() receives pmessage events with the pattern and the channel", async () => {
  const pattern = fx.key("metrics:*");
  const subscriber = fx.redis.psubscribe<{ text: string }>(pattern);
  const received = new Promise<{ pattern: string; channel: string; message: { text: string } }>((resolve) =>
    subscriber.on("pmessage", resolve),
  );
  const channel = fx.key("metrics:ad-9");
  // The client JSON-parses pmessage payloads, so publish JSON.
  await until(async () => (await fx.redis.publish(channel, { text: "🚀" })) === 1, "a delivered publish");
  expect(await received).toEqual({ pattern, channel, message: { text: "🚀" } });
  await subscriber.unsubscribe();
});

test("the SSE stream speaks the documented lines", async () => {
  const channel = fx.key("raw");
  const controller = new AbortController();
  const response = await fetch(`${fx.bridge.url}/subscribe/${channel}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
    signal: controller.signal,
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  expect(response.headers.get("upstash-sync-token")).not.toBeNull();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const readUntil = async (needle: string) => {
    while (!text.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}`);
      text += decoder.decode(value);
    }
  };
  await readUntil(`data: subscribe,${channel},1\n\n`);
  await fx.direct.call(["PUBLISH", channel, "hello, world"]);
  await readUntil(`data: message,${channel},hello, world\n\n`);
  controller.abort();
  await until(async () => (await subscribers(channel)) === 0, "the Redis connection to close");
});

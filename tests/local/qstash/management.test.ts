import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, type Client as QStashClient, QstashError } from "@upstash/qstash";
import type { QStashBroker } from "../../../src/local/qstash/broker.ts";
import { DEV_CREDENTIALS } from "../../../src/local/qstash/config.ts";
import { waitUntil } from "../../support/wait.ts";
import {
  deleteKeys,
  nth,
  startReceiver,
  startTestBroker,
  type TestReceiver,
  uniquePrefix,
} from "./harness.ts";

const keyPrefix = uniquePrefix("manage");
let broker: QStashBroker;
let client: QStashClient;
let destination: TestReceiver;

beforeAll(async () => {
  destination = startReceiver((delivery) =>
    delivery.path.startsWith("/fail") ? new Response("nope", { status: 500 }) : new Response("ok"),
  );
  ({ broker, client } = await startTestBroker({ keyPrefix }));
});

afterAll(async () => {
  await broker.stop();
  destination.stop();
  await deleteKeys(keyPrefix);
});

/** Raw HTTP, only for what the official client cannot send (malformed input, missing token). */
function raw(path: string, init: RequestInit = {}, token: string | null = DEV_CREDENTIALS.token) {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  return fetch(`${broker.url}${path}`, { method: "POST", ...init, headers });
}

async function errorOf(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: unknown };
  expect(typeof body.error).toBe("string");
  return body.error as string;
}

describe("deduplication", () => {
  test("the same deduplication id answers 202 with the original id and delivers once", async () => {
    const first = await client.publish({
      url: destination.url("/dedup-id"),
      body: "a",
      deduplicationId: "order-42",
    });
    const response = await raw(`/v2/publish/${destination.url("/dedup-id")}`, {
      body: "b",
      headers: { "Upstash-Deduplication-Id": "order-42" },
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ messageId: first.messageId, deduplicated: true });
    const again = await client.publish({
      url: destination.url("/dedup-id"),
      body: "c",
      deduplicationId: "order-42",
    });
    expect(again.messageId).toBe(first.messageId);
    await Bun.sleep(200);
    expect(destination.at("/dedup-id").map((d) => d.text)).toEqual(["a"]);
  });

  test("content-based deduplication compares destination, headers and body", async () => {
    const url = destination.url("/dedup-content");
    const one = await client.publish({ url, body: "same", contentBasedDeduplication: true });
    const two = await client.publish({ url, body: "same", contentBasedDeduplication: true });
    const other = await client.publish({ url, body: "different", contentBasedDeduplication: true });
    expect(two.messageId).toBe(one.messageId);
    expect(other.messageId).not.toBe(one.messageId);
    await waitUntil("two deliveries", () => destination.at("/dedup-content").length === 2);
    await Bun.sleep(100);
    expect(
      destination
        .at("/dedup-content")
        .map((d) => d.text)
        .sort(),
    ).toEqual(["different", "same"]);
  });
});

describe("messages", () => {
  test("a delayed message can be read, then cancelled, and is never delivered", async () => {
    const { messageId } = await client.publish({
      url: destination.url("/cancelled?x=1"),
      body: '{"a":1}',
      delay: 20,
      headers: { "Content-Type": "application/json", "X-Trace": "t" },
      retries: 1,
      label: "tenant-7",
      flowControl: { key: "tenant-7", parallelism: 3 },
    });
    const message = await client.messages.get(messageId);
    expect(message).toMatchObject({
      messageId,
      url: destination.url("/cancelled?x=1"),
      method: "POST",
      body: '{"a":1}',
      maxRetries: 1,
      flowControlKey: "tenant-7",
      parallelism: 3,
      label: "tenant-7",
    });
    expect(message.header?.["X-Trace"]).toEqual(["t"]);
    expect(message.notBefore).toBeGreaterThan(message.createdAt);
    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    await expect(client.messages.cancel(messageId)).rejects.toMatchObject({ status: 404 });
    await Bun.sleep(400);
    expect(destination.at("/cancelled")).toHaveLength(0);
  });

  test("bulk cancel by ids and by filter", async () => {
    const ids = await Promise.all(
      [1, 2, 3].map((n) =>
        client.publish({
          url: destination.url(`/bulk-${n}`),
          body: "x",
          delay: 60,
          label: n === 3 ? "keep" : "drop",
        }),
      ),
    );
    expect(await client.messages.cancel([nth(ids, 0).messageId])).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ filter: { label: "drop" } } as never)).toEqual({ cancelled: 1 });
    expect(await client.messages.get(nth(ids, 2).messageId)).toMatchObject({ label: "keep" });
    await client.messages.cancel(nth(ids, 2).messageId);
  });
});

describe("DLQ", () => {
  test("list, get, retry and delete", async () => {
    const published = await Promise.all(
      ["a", "b"].map((name) =>
        client.publish({ url: destination.url(`/fail-${name}`), body: name, retries: 0 }),
      ),
    );
    const ids = published.map((p) => p.messageId);
    let entries: { messageId: string; dlqId: string }[] = [];
    await waitUntil("both in the DLQ", async () => {
      const { messages } = await client.dlq.listMessages();
      entries = messages.filter((m) => ids.includes(m.messageId));
      return entries.length === 2;
    });
    const first = nth(entries, 0);
    const paged = await client.dlq.listMessages({ count: 1 });
    expect(paged.messages).toHaveLength(1);
    expect(paged.cursor).toBeDefined();

    const getOne = await raw(`/v2/dlq/${first.dlqId}`, { method: "GET" });
    expect(getOne.status).toBe(200);
    expect(await getOne.json()).toMatchObject({
      dlqId: first.dlqId,
      responseStatus: 500,
      responseBody: "nope",
    });

    const retried = (await client.dlq.retry(first.dlqId)) as { responses: { messageId: string }[] };
    expect(retried.responses).toHaveLength(1);
    const fresh = nth(retried.responses, 0).messageId;
    await waitUntil("the retried message back in the DLQ", async () => {
      const { messages } = await client.dlq.listMessages();
      return messages.some((m) => m.messageId === fresh);
    });
    const second = nth(entries, 1);
    expect(await client.dlq.delete(second.dlqId)).toEqual({ deleted: 1 });
    await expect(client.dlq.delete(second.dlqId)).rejects.toMatchObject({ status: 404 });
    const { messages } = await client.dlq.listMessages();
    expect(messages.some((m) => m.dlqId === first.dlqId || m.dlqId === second.dlqId)).toBe(false);
    const { deleted } = await client.dlq.delete({ all: true } as never);
    expect(deleted).toBeGreaterThanOrEqual(1);
  });
});

describe("queues", () => {
  test("upsert, get, list, pause, resume, delete", async () => {
    const queue = client.queue({ queueName: "imports" });
    await queue.upsert({ parallelism: 3 });
    expect(await queue.get()).toMatchObject({ name: "imports", parallelism: 3, paused: false, lag: 0 });
    await queue.pause();
    await queue.enqueue({ url: destination.url("/queued-paused"), body: "waits" });
    await Bun.sleep(150);
    expect(destination.at("/queued-paused")).toHaveLength(0);
    expect(await queue.get()).toMatchObject({ paused: true, lag: 1 });
    await queue.resume();
    await waitUntil("the delivery after resume", () => destination.at("/queued-paused").length === 1);
    expect((await queue.list()).map((q) => q.name)).toContain("imports");
    await queue.delete();
    await expect(queue.get()).rejects.toMatchObject({ status: 404 });
  });
});

describe("batch", () => {
  test("publishes every entry and answers in order", async () => {
    const answers = await client.batchJSON([
      { url: destination.url("/batch-1"), body: { n: 1 } },
      { url: destination.url("/batch-2"), body: { n: 2 }, queueName: "batch-queue" },
    ]);
    expect(answers).toHaveLength(2);
    await waitUntil(
      "both deliveries",
      () => destination.at("/batch-1").length + destination.at("/batch-2").length === 2,
    );
    expect(nth(destination.at("/batch-2"), 0).text).toBe('{"n":2}');
    expect(nth(destination.at("/batch-1"), 0).headers.get("Upstash-Message-Id")).toBe(
      (nth(answers, 0) as { messageId: string }).messageId,
    );
  });
});

describe("keys and auth", () => {
  test("GET /v2/keys returns the signing keys", async () => {
    const response = await raw("/v2/keys", { method: "GET" });
    expect(await response.json()).toEqual({
      current: DEV_CREDENTIALS.currentSigningKey,
      next: DEV_CREDENTIALS.nextSigningKey,
    });
  });

  test("a missing or wrong token is a 401 with a JSON error", async () => {
    expect((await raw("/v2/keys", { method: "GET" }, null)).status).toBe(401);
    const wrong = new Client({ baseUrl: broker.url, token: "not-the-token", retry: false });
    const failure = await wrong
      .publish({ url: destination.url("/never"), body: "x" })
      .catch((error) => error);
    expect(failure).toBeInstanceOf(QstashError);
    expect((failure as QstashError).status).toBe(401);
    expect(JSON.parse((failure as QstashError).message).error).toContain("bearer token");
  });
});

describe("bad input", () => {
  const cases: [string, RequestInit & { path?: string }, string][] = [
    ["a relative destination", { path: "/v2/publish/not-a-url" }, "destination"],
    ["an ftp destination", { path: "/v2/publish/ftp://host/x" }, "http"],
    ["a bad delay", { headers: { "Upstash-Delay": "soon" } }, "Upstash-Delay"],
    ["a bad not-before", { headers: { "Upstash-Not-Before": "tomorrow" } }, "Upstash-Not-Before"],
    ["negative retries", { headers: { "Upstash-Retries": "-1" } }, "Upstash-Retries"],
    ["a bad retry delay", { headers: { "Upstash-Retry-Delay": "exec(1)" } }, "Upstash-Retry-Delay"],
    ["an unknown method", { headers: { "Upstash-Method": "BREW" } }, "Upstash-Method"],
    ["a bad callback", { headers: { "Upstash-Callback": "nowhere" } }, "Upstash-Callback"],
    ["a bad timeout", { headers: { "Upstash-Timeout": "0s" } }, "Upstash-Timeout"],
    [
      "a bad flow-control value",
      { headers: { "Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "parallelism=zero" } },
      "Upstash-Flow-Control-Value",
    ],
    ["a flow-control value without key", { headers: { "Upstash-Flow-Control-Value": "rate=1" } }, "Key"],
    ["a batch that is not JSON", { path: "/v2/batch", body: "[{" }, "body"],
    ["a batch entry without destination", { path: "/v2/batch", body: '[{"body":"x"}]' }, "[0].destination"],
    ["a bad queue upsert", { path: "/v2/queues", body: '{"queueName":"q","parallelism":0}' }, "parallelism"],
    ["a schedule without cron", { path: "/v2/schedules/http://127.0.0.1:9/x" }, "Upstash-Cron"],
    [
      "a bad cron",
      { path: "/v2/schedules/http://127.0.0.1:9/x", headers: { "Upstash-Cron": "* * *" } },
      "Upstash-Cron",
    ],
  ];
  for (const [what, init, field] of cases) {
    test(`${what} is a 400 naming ${field}`, async () => {
      const response = await raw(init.path ?? `/v2/publish/${destination.url("/bad")}`, {
        body: "x",
        ...init,
      });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toContain(field);
    });
  }

  test("unknown ids and routes are 404s with a JSON error", async () => {
    for (const path of [
      "/v2/messages/msg_nope",
      "/v2/dlq/123-x",
      "/v2/queues/nope",
      "/v2/schedules/scd_nope",
      "/v2/nothing",
    ]) {
      const response = await raw(path, { method: "GET" });
      expect(response.status).toBe(404);
      expect(await errorOf(response)).toBeTruthy();
    }
  });

  test("nothing bad was delivered", async () => {
    await Bun.sleep(50);
    expect(destination.at("/bad")).toHaveLength(0);
  });
});

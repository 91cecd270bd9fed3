import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@upstash/qstash";
import type { QStashBroker } from "../../../src/local/qstash/broker.ts";
import { waitUntil } from "../../support/wait.ts";
import {
  deleteKeys,
  gap,
  nth,
  startReceiver,
  startTestBroker,
  type TestReceiver,
  uniquePrefix,
} from "./harness.ts";

const keyPrefix = uniquePrefix("delivery");
let broker: QStashBroker;
let client: Client;
let destination: TestReceiver;

beforeAll(async () => {
  destination = startReceiver((delivery, seen) => {
    if (delivery.path.startsWith("/fail-twice"))
      return new Response("not yet", { status: seen.length <= 2 ? 500 : 200 });
    if (delivery.path.startsWith("/always-500"))
      return new Response("broken", { status: 500, headers: { "X-Why": "test" } });
    if (delivery.path.startsWith("/permanent")) {
      return new Response("bad message", { status: 489, headers: { "Upstash-NonRetryable-Error": "true" } });
    }
    if (delivery.path.startsWith("/retry-after")) {
      return new Response("busy", {
        status: seen.length === 1 ? 503 : 200,
        headers: { "Retry-After": "30" },
      });
    }
    if (delivery.path.startsWith("/slow")) return Bun.sleep(400).then(() => new Response("late"));
    return new Response(`handled ${delivery.path}`, { headers: { "X-Handled": "1" } });
  });
  ({ broker, client } = await startTestBroker({ keyPrefix }));
});

afterAll(async () => {
  await broker.stop();
  destination.stop();
  await deleteKeys(keyPrefix);
});

describe("delivery", () => {
  test("delivers the exact body bytes, forwarded headers and QStash headers, signed for that URL", async () => {
    const body = new Uint8Array([0, 1, 2, 254, 255, 10, 13, 0x7b]);
    const url = destination.url("/exact?tenant=t1&q=a%20b");
    const { messageId } = await client.publish({
      url,
      body: body as unknown as string,
      headers: {
        "Content-Type": "application/octet-stream",
        "X-Tenant": "t1",
        Authorization: "Bearer inner",
      },
    });
    await waitUntil("the delivery", () => destination.at("/exact").length === 1);
    const [delivery] = destination.at("/exact");
    expect(delivery?.url).toBe(url);
    expect(delivery?.method).toBe("POST");
    expect([...(delivery?.body ?? [])]).toEqual([...body]);
    expect(delivery?.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(delivery?.headers.get("X-Tenant")).toBe("t1");
    expect(delivery?.headers.get("Authorization")).toBe("Bearer inner");
    expect(delivery?.headers.get("User-Agent")).toBe("Upstash-QStash");
    expect(delivery?.headers.get("Upstash-Message-Id")).toBe(messageId);
    expect(delivery?.headers.get("Upstash-Retried")).toBe("0");
    expect(delivery?.headers.has("Upstash-Schedule-Id")).toBe(false);
  });

  test("the signature verifies for the destination URL and body, and for no other URL", async () => {
    const url = destination.url("/signed?x=1");
    await client.publishJSON({ url, body: { hello: "wörld", n: 1 } });
    await waitUntil("the delivery", () => destination.at("/signed").length === 1);
    const [delivery] = destination.at("/signed");
    expect(delivery?.verified).toBe(true);
    expect(delivery?.text).toBe('{"hello":"wörld","n":1}');
    const { receiver } = await import("./harness.ts");
    const signature = delivery?.headers.get("Upstash-Signature") ?? "";
    await expect(
      receiver.verify({ signature, body: delivery?.text ?? "", url: destination.url("/other") }),
    ).rejects.toThrow();
    await expect(receiver.verify({ signature, body: "{}", url })).rejects.toThrow();
  });

  test("honours the method and a delay (time-scaled)", async () => {
    const sent = performance.now();
    await client.publish({ url: destination.url("/delayed"), body: "later", method: "PUT", delay: 30 });
    await Bun.sleep(150);
    expect(destination.at("/delayed")).toHaveLength(0);
    await waitUntil("the delayed delivery", () => destination.at("/delayed").length === 1);
    const [delivery] = destination.at("/delayed");
    expect(delivery?.method).toBe("PUT");
    // 30 s × 0.01 = 300 ms.
    expect((delivery?.at ?? 0) - sent).toBeGreaterThanOrEqual(280);
  });

  test("not-before wins over delay", async () => {
    const sent = performance.now();
    await client.publish({
      url: destination.url("/not-before"),
      body: "x",
      delay: 1,
      notBefore: Math.floor(Date.now() / 1000) + 40,
    });
    await waitUntil("the delivery", () => destination.at("/not-before").length === 1);
    // About 40 s away, scaled by 0.01: well past the 10 ms the delay alone would give.
    expect((destination.at("/not-before")[0]?.at ?? 0) - sent).toBeGreaterThan(250);
  });

  test("retries with Upstash-Retried 0, 1, 2 until the destination succeeds", async () => {
    await client.publish({ url: destination.url("/fail-twice"), body: "again", retries: 3 });
    await waitUntil("three attempts", () => destination.at("/fail-twice").length === 3, 4000);
    await Bun.sleep(300);
    const attempts = destination.at("/fail-twice");
    expect(attempts.map((a) => a.headers.get("Upstash-Retried"))).toEqual(["0", "1", "2"]);
    expect(new Set(attempts.map((a) => a.headers.get("Upstash-Message-Id"))).size).toBe(1);
    // Each attempt carries its own signature.
    expect(new Set(attempts.map((a) => a.headers.get("Upstash-Signature"))).size).toBe(3);
    expect(attempts.every((a) => a.verified)).toBe(true);
    // Default backoff e^2.5 s ≈ 12.2 s, scaled to ≈ 122 ms; the second ≈ 1.48 s.
    expect(gap(attempts, 1)).toBeGreaterThan(100);
    expect(gap(attempts, 2)).toBeGreaterThan(1300);
  });

  test("after the last attempt the message lands in the DLQ and the failure callback fires", async () => {
    const { messageId } = await client.publish({
      url: destination.url("/always-500"),
      body: "doomed",
      retries: 2,
      retryDelay: "10",
      failureCallback: destination.url("/failure-callback"),
      callback: destination.url("/callback-each"),
    });
    await waitUntil("three attempts", () => destination.at("/always-500").length === 3);
    await waitUntil("the failure callback", () => destination.at("/failure-callback").length === 1);
    await waitUntil("a callback per attempt", () => destination.at("/callback-each").length === 3);
    await Bun.sleep(100);
    expect(destination.at("/always-500")).toHaveLength(3);

    const { messages } = await client.dlq.listMessages({ filter: { messageId } } as never);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.responseStatus).toBe(500);
    expect(messages[0]?.responseBody).toBe("broken");
    expect(messages[0]?.url).toBe(destination.url("/always-500"));

    const failure = nth(destination.at("/failure-callback"), 0);
    expect(failure.verified).toBe(true);
    expect(failure.headers.get("Content-Type")).toBe("application/json");
    const payload = JSON.parse(failure.text);
    expect(payload).toMatchObject({
      status: 500,
      retried: 2,
      maxRetries: 2,
      sourceMessageId: messageId,
      url: destination.url("/always-500"),
      method: "POST",
      dlqId: messages[0]?.dlqId,
    });
    expect(atob(payload.body)).toBe("broken");
    expect(atob(payload.sourceBody)).toBe("doomed");
    expect(payload.header["X-Why"]).toEqual(["test"]);
    expect(destination.at("/callback-each").map((callback) => JSON.parse(callback.text).retried)).toEqual([
      0, 1, 2,
    ]);
  });

  test("a callback reports a successful delivery", async () => {
    const { messageId } = await client.publish({
      url: destination.url("/with-callback"),
      body: "hi",
      callback: destination.url("/callback"),
    });
    await waitUntil("the callback", () => destination.at("/callback").length === 1);
    const callback = nth(destination.at("/callback"), 0);
    expect(callback.verified).toBe(true);
    const payload = JSON.parse(callback.text);
    expect(payload.status).toBe(200);
    expect(payload.sourceMessageId).toBe(messageId);
    expect(atob(payload.body)).toBe("handled /with-callback");
    expect(payload.retried).toBe(0);
  });

  test("489 with Upstash-NonRetryable-Error goes straight to the DLQ", async () => {
    const { messageId } = await client.publish({ url: destination.url("/permanent"), body: "x", retries: 5 });
    await waitUntil("the DLQ entry", async () => {
      const { messages } = await client.dlq.listMessages({ filter: { messageId } } as never);
      return messages.length === 1;
    });
    expect(destination.at("/permanent")).toHaveLength(1);
  });

  test("Upstash-Retry-Delay sets the wait between attempts", async () => {
    await client.publish({
      url: destination.url("/fail-twice-expr"),
      body: "x",
      retryDelay: "20000 * (retried + 1)",
    });
    await waitUntil("three attempts", () => destination.at("/fail-twice-expr").length === 3, 3000);
    const attempts = destination.at("/fail-twice-expr");
    // 20 s then 40 s, scaled to 200 ms and 400 ms.
    expect(gap(attempts, 1)).toBeGreaterThan(180);
    expect(gap(attempts, 2)).toBeGreaterThan(380);
  });

  test("Retry-After from the destination sets the wait", async () => {
    await client.publish({ url: destination.url("/retry-after"), body: "x", retryDelay: "1" });
    await waitUntil("two attempts", () => destination.at("/retry-after").length === 2, 3000);
    // Retry-After: 30 s scaled to 300 ms beats the 1 ms expression.
    expect(gap(destination.at("/retry-after"), 1)).toBeGreaterThan(280);
  });

  test("an unreachable destination is retried, then dead-lettered, and the broker keeps serving", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${closed.port}/gone`;
    closed.stop(true);
    const { messageId } = await client.publish({ url, body: "x", retries: 1, retryDelay: "1" });
    await waitUntil("the DLQ entry", async () => {
      const { messages } = await client.dlq.listMessages({ filter: { messageId } } as never);
      return messages.length === 1 && messages[0]?.responseStatus === undefined;
    });
    const { messageId: next } = await client.publish({
      url: destination.url("/after-unreachable"),
      body: "y",
    });
    await waitUntil("the next delivery", () => destination.at("/after-unreachable").length === 1);
    expect(destination.at("/after-unreachable")[0]?.headers.get("Upstash-Message-Id")).toBe(next);
  });

  test("Upstash-Timeout aborts a slow attempt and retries it", async () => {
    await client.publish({
      url: destination.url("/slow"),
      body: "x",
      timeout: "100ms" as never,
      retries: 1,
      retryDelay: "1",
    });
    await waitUntil("two attempts", () => destination.at("/slow").length === 2, 3000);
    expect(destination.at("/slow").map((a) => a.headers.get("Upstash-Retried"))).toEqual(["0", "1"]);
  });
});

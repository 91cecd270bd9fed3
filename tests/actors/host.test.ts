import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { type Delivery, defineActor } from "../../actors/define.ts";
import { fail, later, ok, retry } from "../../actors/outcome.ts";
import { pingActor } from "../../actors/ping.ts";
import { startPublishRecorder } from "./publish-recorder.ts";
import { deliver, readJson, SIGNING, startTestHost, type TestHost } from "./support.ts";

// One actor whose message says which outcome to produce, so every mapping is exercised over real HTTP.
const received: { message: { mode: string; n: number }; delivery: Delivery }[] = [];
const probeActor = defineActor({
  name: "probe",
  schema: z.object({
    mode: z.enum(["ok", "retry", "retry-after", "fail", "throw", "later"]),
    n: z.number().int(),
  }),
  maxLater: 3,
  async handler(message, ctx) {
    received.push({ message, delivery: ctx.delivery });
    switch (message.mode) {
      case "ok":
        return ok({ doubled: message.n * 2 });
      case "retry":
        return retry("warehouse busy");
      case "retry-after":
        return retry("warehouse busy", 7);
      case "fail":
        return fail("tenant deleted");
      case "throw":
        throw new Error("boom");
      case "later":
        return later(2, "no permit yet", { flowControl: { key: "t:probe", parallelism: 1 } });
    }
  },
});

let host: TestHost;
const recorder = startPublishRecorder();

beforeAll(() => {
  host = startTestHost({ actors: [probeActor, pingActor], qstashUrl: recorder.url });
});
afterAll(async () => {
  await host.close();
  await recorder.stop();
});

const body = (mode: string, n = 1) => JSON.stringify({ mode, n });

describe("signature", () => {
  test("an unsigned delivery is refused with 401 before the handler runs", async () => {
    const before = received.length;
    const response = await deliver(host, "probe", { body: body("ok"), unsigned: true });
    expect(response.status).toBe(401);
    expect((await readJson(response)).error).toContain("missing Upstash-Signature");
    expect(received.length).toBe(before);
  });

  test("a tampered body is refused", async () => {
    const response = await deliver(host, "probe", { body: body("ok", 2), signedBody: body("ok", 1) });
    expect(response.status).toBe(401);
    expect((await readJson(response)).error).toContain("body hash does not match");
  });

  test("a valid signature replayed to another actor's route is refused", async () => {
    const response = await deliver(host, "ping", {
      body: JSON.stringify({ echo: "x" }),
      signedFor: `${host.publicUrl}/actors/probe`,
    });
    expect(response.status).toBe(401);
    expect((await readJson(response)).error).toContain("invalid subject");
  });

  test("a signature minted for another host is refused", async () => {
    const response = await deliver(host, "probe", {
      body: body("ok"),
      signedFor: "https://elsewhere.example/actors/probe",
    });
    expect(response.status).toBe(401);
  });

  test("a foreign key or an expired token is refused; the next signing key is accepted", async () => {
    const foreign = await deliver(host, "probe", { body: body("ok"), key: "sig_not_ours" });
    expect(foreign.status).toBe(401);
    const expired = await deliver(host, "probe", {
      body: body("ok"),
      now: Math.floor(Date.now() / 1000) - 3600,
    });
    expect(expired.status).toBe(401);
    const rotated = await deliver(host, "probe", { body: body("ok"), key: SIGNING.next });
    expect(rotated.status).toBe(200);
  });
});

describe("message validation", () => {
  test("a body that is not JSON goes to the DLQ (489 non-retryable)", async () => {
    const response = await deliver(host, "probe", { body: "{not json" });
    expect(response.status).toBe(489);
    expect(response.headers.get("Upstash-NonRetryable-Error")).toBe("true");
    expect((await readJson(response)).field).toBe("(body)");
  });

  test("a message failing the schema is 489 and names the field", async () => {
    const response = await deliver(host, "probe", { body: JSON.stringify({ mode: "ok", n: "seven" }) });
    expect(response.status).toBe(489);
    expect(response.headers.get("Upstash-NonRetryable-Error")).toBe("true");
    const error = await readJson(response);
    expect(error.field).toBe("n");
    expect(error.error).toContain('field "n"');
  });

  test("an unknown actor is 404 and an oversized body 413", async () => {
    const unknown = await deliver(host, "nobody", { body: "{}" });
    expect(unknown.status).toBe(404);
    const huge = await deliver(host, "probe", { body: "x".repeat(10 * 1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
  });
});

describe("outcomes", () => {
  test("ok answers 200 with the handler's body and passes the delivery facts", async () => {
    const response = await deliver(host, "probe", {
      body: body("ok", 21),
      headers: { "Upstash-Message-Id": "msg_facts", "Upstash-Retried": "2", "Upstash-Schedule-Id": "scd_1" },
    });
    expect(response.status).toBe(200);
    expect(await readJson(response)).toEqual({ doubled: 42 });
    expect(received.at(-1)?.delivery).toEqual({
      messageId: "msg_facts",
      retried: 2,
      scheduleId: "scd_1",
      laterCount: 0,
      originMessageId: "msg_facts",
    });
  });

  test("retry is a 5xx (QStash retries), with Retry-After when the handler gives one", async () => {
    const plain = await deliver(host, "probe", { body: body("retry") });
    expect(plain.status).toBe(500);
    expect(plain.headers.get("Upstash-NonRetryable-Error")).toBeNull();
    expect(plain.headers.get("Retry-After")).toBeNull();
    const paced = await deliver(host, "probe", { body: body("retry-after") });
    expect(paced.status).toBe(500);
    expect(paced.headers.get("Retry-After")).toBe("7");
  });

  test("fail is 489 with Upstash-NonRetryable-Error", async () => {
    const response = await deliver(host, "probe", { body: body("fail") });
    expect(response.status).toBe(489);
    expect(response.headers.get("Upstash-NonRetryable-Error")).toBe("true");
    expect((await readJson(response)).error).toBe("tenant deleted");
  });

  test("a thrown exception is a 5xx and is logged with the message id", async () => {
    const response = await deliver(host, "probe", {
      body: body("throw"),
      headers: { "Upstash-Message-Id": "msg_boom" },
    });
    expect(response.status).toBe(500);
    const line = host.logs.find((entry) => entry.messageId === "msg_boom");
    expect(line).toMatchObject({ level: "error", message: "handler threw", error: "boom", actor: "probe" });
  });
});

describe("later", () => {
  test("re-dispatches the same bytes to the same route with a delay and answers 200", async () => {
    const sent = body("later", 5);
    const response = await deliver(host, "probe", {
      body: sent,
      headers: { "Upstash-Message-Id": "msg_wait" },
    });
    expect(response.status).toBe(200);
    expect((await readJson(response)).later).toMatchObject({ laterCount: 1, reason: "no permit yet" });

    const published = recorder.published.at(-1);
    expect(published?.destination).toBe(`${host.publicUrl}/actors/probe`);
    expect(published?.body).toBe(sent);
    expect(published?.headers.get("Upstash-Delay")).toBe("2s");
    expect(published?.headers.get("Upstash-Deduplication-Id")).toBe("later-msg_wait");
    expect(published?.headers.get("Upstash-Flow-Control-Key")).toBe("t:probe");
    expect(published?.headers.get("Upstash-Forward-Fairway-Later-Count")).toBe("1");
    expect(published?.headers.get("Upstash-Forward-Fairway-Origin-Message-Id")).toBe("msg_wait");
    // A fresh message: the retry budget is not touched (no Upstash-Retries override, Retried restarts at 0).
    expect(published?.headers.get("Upstash-Retries")).toBeNull();
  });

  test("a re-dispatched delivery counts on and keeps its origin; past maxLater it is failed to the DLQ", async () => {
    const next = await deliver(host, "probe", {
      body: body("later"),
      headers: {
        "Upstash-Message-Id": "msg_second",
        "Fairway-Later-Count": "1",
        "Fairway-Origin-Message-Id": "msg_first",
      },
    });
    expect(next.status).toBe(200);
    expect(received.at(-1)?.delivery).toMatchObject({ laterCount: 1, originMessageId: "msg_first" });
    expect(recorder.published.at(-1)?.headers.get("Upstash-Forward-Fairway-Later-Count")).toBe("2");
    expect(recorder.published.at(-1)?.headers.get("Upstash-Forward-Fairway-Origin-Message-Id")).toBe(
      "msg_first",
    );

    const count = recorder.published.length;
    const exhausted = await deliver(host, "probe", {
      body: body("later"),
      headers: { "Fairway-Later-Count": "3", "Fairway-Origin-Message-Id": "msg_first" },
    });
    expect(exhausted.status).toBe(489);
    expect((await readJson(exhausted)).error).toContain("gave up after 3 later re-dispatches");
    expect(recorder.published.length).toBe(count);
  });

  test("when the re-dispatch cannot be published the delivery is a 5xx, so QStash keeps the message", async () => {
    const orphan = startTestHost({ actors: [probeActor], qstashUrl: "http://127.0.0.1:1" });
    try {
      const response = await deliver(orphan, "probe", { body: body("later") });
      expect(response.status).toBe(500);
      expect((await readJson(response)).error).toContain("could not re-dispatch");
    } finally {
      await orphan.close();
    }
  });
});

describe("health", () => {
  test("reports Postgres latency with 200", async () => {
    const response = await fetch(`${host.url}/health`);
    expect(response.status).toBe(200);
    const health = await readJson(response);
    expect(health.ok).toBe(true);
    expect(health.postgres.ok).toBe(true);
    expect(typeof health.postgres.latencyMs).toBe("number");
  });

  test("answers 503 with the error when Postgres is unreachable", async () => {
    const broken = startTestHost({ actors: [], databaseUrl: "postgres://postgres@127.0.0.1:1/none" });
    try {
      const response = await fetch(`${broken.url}/health`);
      expect(response.status).toBe(503);
      const health = await readJson(response);
      expect(health.ok).toBe(false);
      expect(health.postgres.error).toContain("ECONNREFUSED");
    } finally {
      await broken.close();
    }
  });
});

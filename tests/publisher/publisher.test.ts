import { afterAll, describe, expect, test } from "bun:test";
import { Client } from "@upstash/qstash";
import { ActorMessageError, actorUrl, createPublisher, publishToActor } from "../../src/publisher/index.ts";
import { startPublishRecorder } from "../actors/publish-recorder.ts";
import { QSTASH_TOKEN } from "../actors/support.ts";

// What the official client puts on the wire for each option; delivery through the real broker is covered by
// tests/actors/end-to-end.test.ts.
const recorder = startPublishRecorder();
const client = new Client({ baseUrl: recorder.url, token: QSTASH_TOKEN, retry: false });
const target = { client, actorsUrl: "http://127.0.0.1:8082/" };
afterAll(() => recorder.stop());

describe("publishToActor", () => {
  test("sends the validated JSON to the actor's route with every option as its QStash header", async () => {
    const result = await publishToActor(target, {
      actor: "ping",
      body: { echo: "hello" },
      delay: 30,
      deduplicationId: "import-1:7",
      flowControl: { key: "t:acme", parallelism: 2, rate: 10, period: "1m" },
      retries: 5,
      timeout: "20s",
      headers: { "Fairway-Tenant": "acme" },
    });
    expect(result).toEqual({ messageId: `msg_recorded_${recorder.published.length}`, deduplicated: false });

    const sent = recorder.published.at(-1);
    expect(sent?.destination).toBe("http://127.0.0.1:8082/actors/ping");
    expect(JSON.parse(sent?.body ?? "")).toEqual({ echo: "hello" });
    const headers = sent?.headers;
    expect(headers?.get("Content-Type")).toBe("application/json");
    expect(headers?.get("Upstash-Delay")).toBe("30s");
    expect(headers?.get("Upstash-Deduplication-Id")).toBe("import-1:7");
    expect(headers?.get("Upstash-Flow-Control-Key")).toBe("t:acme");
    expect(headers?.get("Upstash-Flow-Control-Value")).toBe("parallelism=2, rate=10, period=1m");
    expect(headers?.get("Upstash-Retries")).toBe("5");
    expect(headers?.get("Upstash-Timeout")).toBe("20s");
    expect(headers?.get("Upstash-Forward-Fairway-Tenant")).toBe("acme");
  });

  test("notBefore is sent as unix seconds", async () => {
    const at = Math.floor(Date.now() / 1000) + 60;
    await createPublisher(target).publish({ actor: "ping", body: { echo: "x" }, notBefore: at });
    expect(recorder.published.at(-1)?.headers.get("Upstash-Not-Before")).toBe(String(at));
  });

  test("a message that does not match its actor's schema is refused before anything is sent", async () => {
    const count = recorder.published.length;
    const sending = publishToActor(target, { actor: "ping", body: { echo: 42 as unknown as string } });
    await expect(sending).rejects.toBeInstanceOf(ActorMessageError);
    await expect(sending).rejects.toThrow('field "echo"');
    expect(recorder.published.length).toBe(count);
  });

  test("a flow-control key without parallelism or rate is refused", async () => {
    const sending = publishToActor(target, {
      actor: "ping",
      body: { echo: "x" },
      flowControl: { key: "t:1" },
    });
    await expect(sending).rejects.toThrow("needs parallelism or rate");
  });

  test("actor URLs are built from the base URL, with or without a trailing slash", () => {
    expect(actorUrl("https://actors.example.com/", "ping")).toBe("https://actors.example.com/actors/ping");
    expect(actorUrl("https://actors.example.com/base", "ping")).toBe(
      "https://actors.example.com/base/actors/ping",
    );
  });
});

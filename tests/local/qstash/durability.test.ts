import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@upstash/qstash";
import type { Subprocess } from "bun";
import { DEV_CREDENTIALS } from "../../../src/local/qstash/config.ts";
import { waitUntil } from "../../support/wait.ts";
import {
  deleteKeys,
  REDIS_URL,
  startReceiver,
  startTestBroker,
  type TestReceiver,
  uniquePrefix,
} from "./harness.ts";

const prefixes: string[] = [];
let destination: TestReceiver;
/** Message ids whose first delivery the receiver holds for a long time (to be "in flight" at a kill). */
const firstSeen = new Set<string>();

beforeAll(() => {
  destination = startReceiver(async (delivery) => {
    const id = delivery.headers.get("Upstash-Message-Id") ?? "";
    if (delivery.path === "/held" && !firstSeen.has(id)) {
      firstSeen.add(id);
      await Bun.sleep(3000);
    }
    if (
      delivery.path === "/flaky" &&
      delivery.headers.get("Upstash-Retried") === "0" &&
      Number(delivery.text) % 4 === 0
    ) {
      return new Response("try again", { status: 503 });
    }
    return new Response("ok");
  });
});

afterAll(async () => {
  destination.stop();
  await Promise.all(prefixes.map(deleteKeys));
});

/** Runs `bun src/local/qstash/main.ts` as its own process and waits for its ready line. */
async function spawnBroker(
  keyPrefix: string,
): Promise<{ process: Subprocess<"ignore", "pipe", "pipe">; url: string }> {
  const child = Bun.spawn([process.execPath, "src/local/qstash/main.ts"], {
    cwd: `${import.meta.dir}/../../..`,
    env: {
      ...process.env,
      REDIS_URL,
      PORT: "0",
      QSTASH_KEY_PREFIX: keyPrefix,
      QSTASH_TIME_SCALE: "0.01",
      QSTASH_LEASE_MS: "500",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  let output = "";
  const deadline = Date.now() + 10_000;
  while (!output.includes("\n")) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) throw new Error(`broker did not start: ${output}`);
    output += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const match = /^qstash ready (http:\/\/\S+)$/m.exec(output);
  if (match === null) throw new Error(`unexpected first line: ${output}`);
  return { process: child, url: match[1] as string };
}

describe("durability", () => {
  test("a broker killed with SIGKILL mid-delivery delivers everything it accepted after a restart", async () => {
    const keyPrefix = uniquePrefix("kill");
    prefixes.push(keyPrefix);
    const first = await spawnBroker(keyPrefix);
    const client = new Client({ baseUrl: first.url, token: DEV_CREDENTIALS.token, retry: false });
    const held = await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        client.publish({ url: destination.url("/held"), body: `held-${n}` }),
      ),
    );
    const delayed = await Promise.all(
      Array.from({ length: 5 }, (_, n) =>
        client.publish({ url: destination.url("/delayed-across-kill"), body: `delayed-${n}`, delay: 150 }),
      ),
    );
    await waitUntil("the held deliveries to be in flight", () => destination.at("/held").length === 5);

    first.process.kill("SIGKILL");
    await first.process.exited;
    expect(destination.at("/delayed-across-kill")).toHaveLength(0);

    const second = await spawnBroker(keyPrefix);
    try {
      await waitUntil(
        "every accepted message after the restart",
        () => {
          const heldIds = new Set(destination.at("/held").map((d) => d.headers.get("Upstash-Message-Id")));
          const redelivered = held.every(
            ({ messageId }) =>
              destination.at("/held").filter((d) => d.headers.get("Upstash-Message-Id") === messageId)
                .length >= 2,
          );
          return heldIds.size === 5 && redelivered && destination.at("/delayed-across-kill").length === 5;
        },
        8000,
      );
      const delivered = new Set(
        destination.at("/delayed-across-kill").map((d) => d.headers.get("Upstash-Message-Id")),
      );
      expect(delivered).toEqual(new Set(delayed.map((d) => d.messageId)));
      expect(destination.deliveries.every((d) => d.verified)).toBe(true);
    } finally {
      second.process.kill("SIGTERM");
      expect(await second.process.exited).toBe(0);
    }
  }, 20_000);

  test("two brokers on one Redis never deliver the same attempt twice", async () => {
    const keyPrefix = uniquePrefix("pair");
    prefixes.push(keyPrefix);
    const one = await startTestBroker({ keyPrefix });
    const two = await startTestBroker({ keyPrefix });
    try {
      const published = await Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          (n % 2 === 0 ? one : two).client.publish({
            url: destination.url("/flaky"),
            body: String(n),
            retryDelay: "100",
            ...(n % 10 === 0 ? { flowControl: { key: "shared", parallelism: 3 } } : {}),
          }),
        ),
      );
      // Every fourth message fails its first attempt, so 250 attempts in all.
      await waitUntil("250 attempts", () => destination.at("/flaky").length >= 250, 10_000);
      await Bun.sleep(300);
      const attempts = destination
        .at("/flaky")
        .map((d) => `${d.headers.get("Upstash-Message-Id")}#${d.headers.get("Upstash-Retried")}`);
      expect(attempts).toHaveLength(250);
      expect(new Set(attempts).size).toBe(250);
      const ids = new Set(destination.at("/flaky").map((d) => d.headers.get("Upstash-Message-Id")));
      expect(ids).toEqual(new Set(published.map((p) => p.messageId)));
    } finally {
      await Promise.all([one.broker.stop(), two.broker.stop()]);
    }
  }, 20_000);
});

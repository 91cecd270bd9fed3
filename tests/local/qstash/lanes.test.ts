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

const keyPrefix = uniquePrefix("lanes");
let broker: QStashBroker;
let client: Client;
let destination: TestReceiver;
/** Deliveries being handled right now, per path prefix, and the most ever seen at once. */
const inFlight = new Map<string, { now: number; most: number }>();

beforeAll(async () => {
  destination = startReceiver(async (delivery) => {
    const lane = delivery.path.split("/")[1] ?? "";
    const count = inFlight.get(lane) ?? { now: 0, most: 0 };
    inFlight.set(lane, count);
    count.now++;
    count.most = Math.max(count.most, count.now);
    const slow = lane === "flow" || lane === "fifo-slow";
    if (slow) await Bun.sleep(300);
    count.now--;
    if (lane === "fifo-retry" && delivery.text === "1" && delivery.headers.get("Upstash-Retried") === "0") {
      return new Response("once more", { status: 500 });
    }
    return new Response("ok");
  });
  ({ broker, client } = await startTestBroker({ keyPrefix }));
});

afterAll(async () => {
  await broker.stop();
  destination.stop();
  await deleteKeys(keyPrefix);
});

describe("flow control", () => {
  test("12 messages, parallelism 2, a 300 ms receiver: never more than 2 in flight, all 12 delivered", async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        client.publish({
          url: destination.url(`/flow/${n}`),
          body: String(n),
          flowControl: { key: "tenant-a", parallelism: 2 },
        }),
      ),
    );
    await waitUntil(
      "all 12 deliveries",
      () => destination.deliveries.filter((d) => d.path.startsWith("/flow/")).length === 12,
      6000,
    );
    const elapsed = performance.now() - started;
    expect(inFlight.get("flow")?.most).toBe(2);
    // The twelfth starts in the sixth round of two (after 5 × 300 ms), and slots are refilled as
    // they free, not on a slow poll.
    expect(elapsed).toBeGreaterThan(1450);
    expect(elapsed).toBeLessThan(3000);
    const bodies = destination.deliveries
      .filter((d) => d.path.startsWith("/flow/"))
      .map((d) => Number(d.text));
    expect(bodies.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
  });

  test("rate limits starts per period (fixed window) and sends the rest when the window ends", async () => {
    await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        client.publish({
          url: destination.url(`/rate/${n}`),
          body: String(n),
          flowControl: { key: "tenant-b", rate: 2, period: "400ms" as never },
        }),
      ),
    );
    await waitUntil(
      "all 6 deliveries",
      () => destination.deliveries.filter((d) => d.path.startsWith("/rate/")).length === 6,
      3000,
    );
    const times = destination.deliveries.filter((d) => d.path.startsWith("/rate/")).map((d) => d.at);
    const first = nth(times, 0);
    // Two per 400 ms window: deliveries 3-4 wait for the second window, 5-6 for the third.
    expect(nth(times, 2) - first).toBeGreaterThan(300);
    expect(nth(times, 4) - first).toBeGreaterThan(700);
    expect(nth(times, 5) - first).toBeLessThan(2000);
  });

  test("a delayed message holds no slot", async () => {
    await client.publish({
      url: destination.url("/held/late"),
      body: "late",
      delay: 30,
      flowControl: { key: "tenant-c", parallelism: 1 },
    });
    await client.publish({
      url: destination.url("/held/now"),
      body: "now",
      flowControl: { key: "tenant-c", parallelism: 1 },
    });
    await waitUntil(
      "both",
      () => destination.at("/held/now").length + destination.at("/held/late").length === 2,
      2000,
    );
    // The undelayed message did not wait for the delayed one's 300 ms.
    expect(nth(destination.at("/held/now"), 0).at).toBeLessThan(
      nth(destination.at("/held/late"), 0).at - 150,
    );
  });
});

describe("queues", () => {
  test("parallelism 1 delivers in FIFO order, one at a time", async () => {
    const queue = client.queue({ queueName: "fifo" });
    for (let n = 0; n < 6; n++)
      await queue.enqueue({ url: destination.url(`/fifo-slow/${n}`), body: String(n) });
    await waitUntil(
      "six deliveries",
      () => destination.deliveries.filter((d) => d.path.startsWith("/fifo-slow/")).length === 6,
      4000,
    );
    const order = destination.deliveries.filter((d) => d.path.startsWith("/fifo-slow/")).map((d) => d.text);
    expect(order).toEqual(["0", "1", "2", "3", "4", "5"]);
    expect(inFlight.get("fifo-slow")?.most).toBe(1);
  });

  test("a message in retry keeps its place: the next one waits for it", async () => {
    const queue = client.queue({ queueName: "fifo-retry" });
    for (let n = 1; n <= 3; n++) {
      await queue.enqueue({ url: destination.url("/fifo-retry"), body: String(n), retryDelay: "50000" });
    }
    await waitUntil("four attempts", () => destination.at("/fifo-retry").length === 4, 3000);
    expect(destination.at("/fifo-retry").map((d) => d.text)).toEqual(["1", "1", "2", "3"]);
    // The retry waited 50 s × 0.01 = 500 ms and nothing overtook it.
    expect(gap(destination.at("/fifo-retry"), 1)).toBeGreaterThan(450);
  });
});

describe("schedules", () => {
  test("a cron schedule fires every second with Upstash-Schedule-Id, and stops once deleted", async () => {
    const { scheduleId } = await client.schedules.create({
      destination: destination.url("/cron"),
      cron: "* * * * * *",
      body: "tick",
      headers: { "X-From": "cron" },
    });
    const schedule = await client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({
      scheduleId,
      cron: "* * * * * *",
      destination: destination.url("/cron"),
      isPaused: false,
    });
    expect((await client.schedules.list()).map((s) => s.scheduleId)).toContain(scheduleId);
    await waitUntil("two fires", () => destination.at("/cron").length >= 2, 3500);
    const fires = destination.at("/cron");
    expect(nth(fires, 0).headers.get("Upstash-Schedule-Id")).toBe(scheduleId);
    expect(nth(fires, 0).headers.get("X-From")).toBe("cron");
    expect(nth(fires, 0).verified).toBe(true);
    expect(gap(fires, 1)).toBeGreaterThan(800);
    expect(nth(fires, 0).headers.get("Upstash-Message-Id")).not.toBe(
      nth(fires, 1).headers.get("Upstash-Message-Id"),
    );

    await client.schedules.pause({ schedule: scheduleId });
    expect((await client.schedules.get(scheduleId)).isPaused).toBe(true);
    const pausedAt = destination.at("/cron").length;
    await Bun.sleep(1200);
    expect(destination.at("/cron").length).toBe(pausedAt);
    await client.schedules.resume({ schedule: scheduleId });
    await waitUntil("a fire after resume", () => destination.at("/cron").length > pausedAt, 2500);

    await client.schedules.delete(scheduleId);
    const total = destination.at("/cron").length;
    await Bun.sleep(1200);
    expect(destination.at("/cron").length).toBe(total);
    await expect(client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
  }, 15_000);
});

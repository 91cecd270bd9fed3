// A queue backs up behind a held gate and drains when the gate opens. The monitor runs on its real QStash
// schedule (every second here) the whole time; the depth alert fires once when the queue crosses the
// threshold and clears once when it drains, and the webhook receiver sees exactly those two POSTs.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Client } from "@upstash/qstash";
import { z } from "zod";
import { defineActor } from "../../actors/define.ts";
import type { MonitorConfig } from "../../actors/monitor/config.ts";
import { createMonitorActor, ensureMonitorSchedule } from "../../actors/monitor.ts";
import { ok } from "../../actors/outcome.ts";
import { DEFAULT_THRESHOLDS } from "../../src/domain/monitoring/alerts.ts";
import { collectSnapshot } from "../../src/domain/monitoring/collect.ts";
import { QSTASH_TOKEN } from "../actors/support.ts";
import { type ImportStack, startImportStack } from "../imports/support.ts";

const DEPTH_THRESHOLD = 10;
const MESSAGES = 25;

let stack: ImportStack;
let receiver: ReturnType<typeof Bun.serve>;
const received: { body: Record<string, unknown>; signed: boolean }[] = [];
let gateOpen = false;
const waiting: (() => void)[] = [];

/** Holds every delivery until the test opens the gate. */
const gateActor = defineActor({
  name: "gate",
  schema: z.object({ tenantId: z.string(), n: z.number() }),
  async handler() {
    if (!gateOpen) await new Promise<void>((resolve) => waiting.push(resolve));
    return ok();
  },
});

beforeAll(async () => {
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = (await request.json()) as Record<string, unknown>;
      received.push({ body, signed: request.headers.has("upstash-signature") });
      return new Response("ok");
    },
  });
  stack = await startImportStack({
    actors: ({ brokerUrl, namespace }) => [
      gateActor,
      createMonitorActor(monitorConfig(brokerUrl, namespace)),
    ],
  });
});

afterAll(async () => {
  gateOpen = true;
  for (const release of waiting.splice(0)) release();
  await stack?.stop();
  receiver?.stop(true);
});

function monitorConfig(brokerUrl: string, namespace: string): MonitorConfig {
  return {
    qstash: { url: brokerUrl, token: QSTASH_TOKEN },
    cron: "* * * * * *",
    webhook: `http://127.0.0.1:${receiver.port}/alerts`,
    webhookRetries: 3,
    thresholds: { ...DEFAULT_THRESHOLDS, depth: DEPTH_THRESHOLD },
    namespace,
    outboxSweepAfterSeconds: 120,
  };
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

test("a backed-up queue fires one alert and its draining clears it once; the webhook sees exactly two POSTs", async () => {
  const tenant = await stack.createTenant();
  const publisher = stack.services.publisher;
  if (!publisher) throw new Error("no publisher");
  for (let n = 0; n < MESSAGES; n++) {
    await publisher.publishRaw("gate", JSON.stringify({ tenantId: tenant.id, n }), {
      flowControl: { key: `${tenant.id}.gate`, parallelism: 1 },
    });
  }
  const scheduleId = await ensureMonitorSchedule(
    monitorConfig(stack.broker.url, stack.namespace),
    stack.actorsUrl,
  );
  expect(scheduleId).toBe(`fairway-monitor-${stack.namespace}`);

  const fired = await until(
    "the alert to fire",
    () => received.find((r) => r.body.state === "firing"),
    15_000,
  );
  expect(fired.body).toMatchObject({
    alert: `queue_depth:gate:${tenant.id}`,
    rule: "queue_depth",
    actor: "gate",
    tenantId: tenant.id,
    threshold: DEPTH_THRESHOLD,
    seq: 1,
  });
  expect(fired.signed).toBe(true);
  // The monitor keeps running every second while the queue stays backed up: no second "firing".
  await Bun.sleep(3000);
  expect(received.filter((r) => r.body.state === "firing")).toHaveLength(1);
  // The held delivery has run for over a second: it shows as in flight, the rest as waiting.
  const held = await collectSnapshot(stack.redis, { tenants: [tenant.id] });
  expect(held.lanes.find((lane) => lane.actor === "gate")).toMatchObject({ depth: MESSAGES, inFlight: 1 });

  gateOpen = true;
  for (const release of waiting.splice(0)) release();
  const cleared = await until(
    "the alert to clear",
    () => received.find((r) => r.body.state === "resolved"),
    20_000,
  );
  expect(cleared.body).toMatchObject({ alert: `queue_depth:gate:${tenant.id}`, seq: 1 });
  await Bun.sleep(3000);
  expect(received.map((r) => r.body.state)).toEqual(["firing", "resolved"]);

  await new Client({ baseUrl: stack.broker.url, token: QSTASH_TOKEN }).schedules.delete(scheduleId as string);
}, 60_000);

// The collector through the real broker (real time) and actors host, reading Mockstagram: cadence, stopping,
// duplicated ticks, provider failures.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getInfluencer, stopInfluencer } from "../../src/domain/influencers/registry.ts";
import type { PointEntry, StreamEntry } from "../../src/domain/influencers/stream.ts";
import { tickPublish } from "../../src/domain/influencers/ticks.ts";
import { tenantTag } from "../../src/domain/keys.ts";
import { countersAt } from "../../src/local/mockstagram/counters.ts";
import { type CollectorStack, startCollectorStack } from "./stack.ts";
import { waitFor } from "./support.ts";

let stack: CollectorStack;
const run = crypto.randomUUID().slice(0, 8);
const tenants: string[] = [];
const tenant = () => {
  tenants.push(`col-${run}-${tenants.length}`);
  return tenants[tenants.length - 1] as string;
};

beforeAll(async () => {
  stack = await startCollectorStack();
});

afterAll(async () => {
  for (const t of tenants) {
    const found = await stack.redis.keys(`${tenantTag(t)}*`);
    if (found.length > 0) await stack.redis.del(...found);
  }
  await stack.stop();
});

const pointsOf = (entries: StreamEntry[], id: string) =>
  entries.filter((e): e is PointEntry => e.kind === "point" && e.influencerId === id);

// Each test has its own tenant and influencers, so they run side by side.
describe("collector", () => {
  test.concurrent("collects each influencer once per interval, on its grid, with the provider's values", async () => {
    const t = tenant();
    const ids = ["1000001", "1000002", "1e3"];
    const { registrations } = await stack.track(t, ids, 1);
    expect(registrations.every((r) => r.verdict === "created")).toBe(true);
    await Bun.sleep(3600);
    const entries = await stack.entries(t);
    for (const [i, id] of ids.entries()) {
      const points = pointsOf(entries, id);
      expect(points.length).toBeGreaterThanOrEqual(3);
      const first = registrations[i]?.nextTickAt as number;
      expect(points.map((p) => p.ts)).toEqual(points.map((_, k) => first + k * 1000));
      for (const p of points) {
        expect(p.startedAt - p.ts).toBeLessThan(300); // tick lag
        // Mockstagram's counters are a pure function of the second it answered in.
        const second = Math.floor(p.fetchedAt / 1000);
        const expected = [
          countersAt(stack.mock.seed, id, second),
          countersAt(stack.mock.seed, id, second - 1),
        ];
        expect(expected).toContainEqual(p.counters as never);
      }
    }
    const view = await getInfluencer(stack.redis, t, "1e3", Date.now());
    expect(view?.status).toBe("active");
    expect(view?.points).toBe(pointsOf(entries, "1e3").length);
    expect((await stack.pendingTicks(t)).get("1000001")).toHaveLength(1);
  });

  test.concurrent("stopping ends the loop at its next tick and tells the warehouse", async () => {
    const t = tenant();
    await stack.track(t, ["a"], 1);
    await waitFor("a first point", async () =>
      pointsOf(await stack.entries(t), "a").length > 0 ? true : undefined,
    );
    expect(await stopInfluencer(stack.redis, t, "a", Date.now())).toBe("stopping");
    await Bun.sleep(1300);
    const entries = await stack.entries(t);
    expect(entries.at(-1)).toMatchObject({ kind: "status", status: "stopped" });
    const count = pointsOf(entries, "a").length;
    await Bun.sleep(1100);
    expect(pointsOf(await stack.entries(t), "a")).toHaveLength(count);
    expect((await stack.pendingTicks(t)).get("a")).toBeUndefined();
  });

  test.concurrent("a tick delivered twice, and a stray tick off the grid, cannot fork the loop", async () => {
    const t = tenant();
    const [loop] = (await stack.track(t, ["a"], 1)).registrations;
    const generation = loop?.generation as string;
    // Publish the loop's first tick three more times under other deduplication ids, and one tick half a
    // second off its grid: each arrives as its own message.
    for (const suffix of ["x", "y", "z"]) {
      const request = tickPublish(
        { tenantId: t, influencerId: "a", generation, at: loop?.nextTickAt as number },
        1,
        Date.now(),
      );
      await stack.publisher.publish({
        actor: "collector",
        ...request,
        deduplicationId: `${request.deduplicationId}-${suffix}`,
      });
    }
    const stray = tickPublish(
      { tenantId: t, influencerId: "a", generation, at: (loop?.nextTickAt as number) + 500 },
      1,
      Date.now(),
    );
    await stack.publisher.publish({ actor: "collector", ...stray });
    await Bun.sleep(3300);
    const points = pointsOf(await stack.entries(t), "a");
    const times = [...new Set(points.map((p) => p.ts))];
    expect(times).toEqual(times.map((_, k) => (loop?.nextTickAt as number) + k * 1000));
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect((await stack.pendingTicks(t)).get("a")).toHaveLength(1); // still exactly one loop
  });

  test.concurrent("a failing provider is retried within the tick; a provider that stays down does not break the cadence", async () => {
    const t = tenant();
    const [loop] = (await stack.track(t, ["flaky"], 1)).registrations;
    const first = loop?.nextTickAt as number;
    await waitFor("a first point", async () =>
      pointsOf(await stack.entries(t), "flaky").length > 0 ? true : undefined,
    );
    const before = stack.mock.stats().byId.flaky ?? 0;
    stack.mock.configure({ failNext: { flaky: 2 } }); // the next tick's first two attempts fail
    await waitFor(
      "three attempts",
      () => ((stack.mock.stats().byId.flaky ?? 0) >= before + 3 ? true : undefined),
      3000,
    );
    await Bun.sleep(100);
    // The third attempt answered within the same tick: a point, and no failed tick.
    expect((await getInfluencer(stack.redis, t, "flaky", Date.now()))?.failures).toBe(0);

    stack.mock.configure({ failNext: { flaky: 1000 } }); // every request for it fails, for a while
    await Bun.sleep(2200);
    const failing = await getInfluencer(stack.redis, t, "flaky", Date.now());
    expect(failing?.status).toBe("failing");
    expect(failing?.failures).toBeGreaterThanOrEqual(1);
    stack.mock.configure({ failNext: { flaky: 0 } });
    await Bun.sleep(2200);

    const entries = await stack.entries(t);
    expect(entries.some((e) => e.kind === "status" && e.error?.startsWith("provider answered 5"))).toBe(true);
    const times = pointsOf(entries, "flaky").map((p) => p.ts);
    // Every point is on the loop's original grid, and points resumed after the outage.
    for (const ts of times) expect((ts - first) % 1000).toBe(0);
    expect(times.at(-1)).toBeGreaterThan(Date.now() - 1500);
    expect((await getInfluencer(stack.redis, t, "flaky", Date.now()))?.status).toBe("active");
    expect((await stack.pendingTicks(t)).get("flaky")).toHaveLength(1);
  });
});

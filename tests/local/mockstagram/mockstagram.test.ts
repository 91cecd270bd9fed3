import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countersAt } from "../../../src/local/mockstagram/counters.ts";
import { type Mockstagram, startMockstagram } from "../../../src/local/mockstagram/server.ts";

let mock: Mockstagram;
beforeAll(() => {
  mock = startMockstagram({ port: 0, seed: 42 });
});
afterAll(() => mock.stop());

const get = (path: string) => fetch(`${mock.url}${path}`);

describe("counters model", () => {
  test("is a pure function of seed, id and second", () => {
    const t = 1_780_000_000;
    expect(countersAt(42, "1000001", t)).toEqual(countersAt(42, "1000001", t + 0.9));
    expect(countersAt(42, "1000001", t)).not.toEqual(countersAt(42, "1000002", t));
    expect(countersAt(42, "1000001", t)).not.toEqual(countersAt(43, "1000001", t));
  });

  test("values are plausible: non-negative integers, audiences between 1 k and ~10 M, growth over a year", () => {
    const t = 1_780_000_000;
    for (let i = 0; i < 200; i++) {
      const c = countersAt(1, `id-${i}`, t);
      for (const value of Object.values(c)) expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
      expect(c.followers).toBeGreaterThan(500);
      expect(c.followers).toBeLessThan(20_000_000);
      expect(c.comments).toBeLessThan(c.likes + 1);
      expect(c.views).toBeGreaterThan(c.likes - 1);
      const later = countersAt(1, `id-${i}`, t + 365 * 86_400);
      expect(later.followers).toBeGreaterThan(c.followers);
      expect(later.posts).toBeGreaterThanOrEqual(c.posts);
    }
  });

  test("followers move within a minute, so buckets have distinct min, max and last", () => {
    const values = Array.from({ length: 60 }, (_, s) => countersAt(0, "busy", 1_780_000_000 + s).followers);
    expect(new Set(values).size).toBeGreaterThan(10);
  });
});

describe("HTTP", () => {
  test("a profile answers the model's counters for the current second", async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await get("/api/v1/influencers/1000001");
    const after = Math.floor(Date.now() / 1000);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    const second = Date.parse(body.asOf as string) / 1000;
    expect(second).toBeGreaterThanOrEqual(before);
    expect(second).toBeLessThanOrEqual(after);
    const { id, username, asOf, ...counters } = body;
    expect(id).toBe("1000001");
    expect(username).toBe("creator_1000001");
    expect(counters).toEqual({ ...countersAt(42, "1000001", second) });
  });

  test("a bad id is a 400 naming it; unknown routes are 404", async () => {
    const bad = await get("/api/v1/influencers/a%20b");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toStartWith("id:");
    expect((await get("/api/v1/nothing")).status).toBe(404);
  });

  test("query overrides: failureRate=1 always fails, latencyMs waits; bad values are a 400 naming them", async () => {
    const failing = await get("/api/v1/influencers/x?failureRate=1");
    expect([500, 502, 503]).toContain(failing.status);
    const started = performance.now();
    expect((await get("/api/v1/influencers/x?latencyMs=120")).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    const bad = await get("/api/v1/influencers/x?failureRate=2");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("failureRate");
  });

  test("failNext fails exactly the next N requests for that id, and stats count them", async () => {
    const control = await fetch(`${mock.url}/__control`, {
      method: "POST",
      body: JSON.stringify({ failNext: { flaky: 2 } }),
    });
    expect(control.status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get("/api/v1/influencers/flaky")).status);
    expect(statuses[0]).toBeGreaterThanOrEqual(500);
    expect(statuses[1]).toBeGreaterThanOrEqual(500);
    expect(statuses[2]).toBe(200);
    expect((await get("/api/v1/influencers/other")).status).toBe(200);
    const stats = (await (await get("/__stats")).json()) as { byId: Record<string, number> };
    expect(stats.byId.flaky).toBe(3);
  });

  test("a configured failure rate fails about that share, in a sequence fixed by the seed", async () => {
    const run = async () => {
      const flaky = startMockstagram({ port: 0, seed: 9, failureRate: 0.3 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 200; i++) {
        outcomes.push((await fetch(`${flaky.url}/api/v1/influencers/${i % 7}`)).ok);
      }
      await flaky.stop();
      return outcomes;
    };
    const first = await run();
    const failures = first.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(35);
    expect(failures).toBeLessThan(85);
    expect(await run()).toEqual(first);
  });
});

test("main.ts prints one ready line and stops on SIGTERM", async () => {
  const child = Bun.spawn([process.execPath, "src/local/mockstagram/main.ts"], {
    env: { ...process.env, PORT: "0", MOCKSTAGRAM_LATENCY_MS: "1" },
    stdout: "pipe",
  });
  const reader = child.stdout.getReader();
  const line = new TextDecoder().decode((await reader.read()).value);
  expect(line).toMatch(/^mockstagram ready http:\/\/127\.0\.0\.1:\d+\n$/);
  const url = (/ready (\S+)/.exec(line) as RegExpExecArray)[1];
  expect((await fetch(`${url}/api/v1/influencers/7`)).status).toBe(200);
  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
});

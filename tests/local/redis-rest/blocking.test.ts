import { afterAll, beforeAll, expect, test } from "bun:test";
import { type BridgeFixture, startBridge, token } from "./bridge.ts";

let fx: BridgeFixture;

beforeAll(async () => {
  fx = await startBridge("blocking");
});
afterAll(() => fx.close());

test("a blocking pop waits on its own connection and is served by a push from another client", async () => {
  const queue = fx.key("jobs");
  const waiter = fx.client();
  const popped = waiter.exec<[string, string]>(["BLPOP", queue, 5]);
  await Bun.sleep(50);
  // The shared path stays responsive while the pop blocks.
  const started = performance.now();
  expect(await fx.redis.ping()).toBe("PONG");
  expect(performance.now() - started).toBeLessThan(500);
  await fx.client().rpush(queue, "job-1");
  expect(await popped).toEqual([queue, "job-1"]);
});

test("a blocking pop that times out returns null", async () => {
  expect(await fx.redis.exec(["BRPOP", fx.key("empty"), 0.05])).toBeNull();
});

test("BLMOVE and BZPOPMIN are served too", async () => {
  const source = fx.key("src");
  const moved = fx.redis.exec<string>(["BLMOVE", source, fx.key("dst"), "LEFT", "RIGHT", 5]);
  const zpopped = fx.redis.exec<[string, string, number]>(["BZPOPMIN", fx.key("zq"), 5]);
  await Bun.sleep(50);
  await fx.redis.rpush(source, "m");
  await fx.redis.zadd(fx.key("zq"), { score: 2.5, member: "z" });
  expect(await moved).toBe("m");
  expect(await zpopped).toEqual([fx.key("zq"), "z", 2.5]);
});

test("XREAD with BLOCK is served by a later XADD", async () => {
  const stream = fx.key("events");
  const read = fx.redis.xread(stream, "$", { blockMS: 5000 }) as Promise<[string, [string, string[]][]][]>;
  await Bun.sleep(50);
  const id = await fx.client().xadd(stream, "*", { kind: "click" });
  expect(await read).toEqual([[stream, [[id, ["kind", "click"]]]]]);
});

test("a pipeline holding a blocking command runs on a dedicated connection", async () => {
  // The client's pipeline has no generic command, so this one is written by hand.
  const queue = fx.key("pipe-jobs");
  const response = fetch(`${fx.bridge.url}/pipeline`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: JSON.stringify([
      ["set", fx.key("pipe-marker"), "1"],
      ["blpop", queue, 5],
    ]),
  });
  await Bun.sleep(50);
  expect(await fx.redis.get(fx.key("pipe-marker"))).toBe(1);
  await fx.redis.rpush(queue, "late");
  expect(await (await response).json()).toEqual([{ result: "OK" }, { result: [queue, "late"] }]);
});

test("when the HTTP client goes away, its blocked connection is closed instead of stealing later pushes", async () => {
  const queue = fx.key("abandoned");
  const controller = new AbortController();
  const request = fetch(fx.bridge.url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: JSON.stringify(["BLPOP", queue, 0]),
    signal: controller.signal,
  }).catch((error: Error) => error.name);
  await Bun.sleep(50);
  controller.abort();
  expect(await request).toBe("AbortError");
  await Bun.sleep(100);
  await fx.direct.call(["RPUSH", queue, "kept"]);
  await Bun.sleep(50);
  expect(await fx.direct.send(["LRANGE", queue, "0", "-1"])).toEqual([Buffer.from("kept")]);
});

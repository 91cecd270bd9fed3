import { afterAll, beforeAll, expect, test } from "bun:test";
import { type BridgeFixture, startBridge } from "./bridge.ts";

let fx: BridgeFixture;

beforeAll(async () => {
  fx = await startBridge("scripts");
});
afterAll(() => fx.close());

const incrementBy = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

test("eval runs Lua with keys and arguments", async () => {
  expect(await fx.redis.eval(incrementBy, [fx.key("lua")], [5])).toBe(5);
  expect(await fx.redis.eval("return {KEYS[1], ARGV[1], 7, false}", [fx.key("k")], ["a"])).toEqual([
    fx.key("k"),
    "a",
    7,
    null,
  ]);
  expect(await fx.redis.eval("return redis.status_reply('OK')", [], [])).toBe("OK");
});

test("a Lua error comes back with Redis's text", async () => {
  await expect(fx.redis.eval("return redis.error_reply('FAIRWAY custom failure')", [], [])).rejects.toThrow(
    "FAIRWAY custom failure",
  );
});

test("evalsha after script load, and NOSCRIPT with the exact text", async () => {
  const sha = await fx.redis.scriptLoad(incrementBy);
  expect(sha).toBe(new Bun.CryptoHasher("sha1").update(incrementBy).digest("hex"));
  expect(await fx.redis.evalsha(sha, [fx.key("lua2")], [2])).toBe(2);
  await expect(fx.redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(
    "NOSCRIPT No matching script. Please use EVAL.",
  );
  const pipeline = fx.redis.pipeline();
  pipeline.evalsha("0".repeat(40), [], []);
  pipeline.evalsha(sha, [fx.key("lua2")], [3]);
  const entries = await pipeline.exec({ keepErrors: true });
  expect(entries[0]?.error).toBe("NOSCRIPT No matching script. Please use EVAL.");
  expect(entries[1]?.result).toBe(5);
});

test("the client's Script helper: EVALSHA first, EVAL on NOSCRIPT", async () => {
  // A script body unique to this run, so it cannot already be in Redis's script cache.
  const body = `-- ${crypto.randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
  const sha = new Bun.CryptoHasher("sha1").update(body).digest("hex");
  expect(await fx.direct.send(["SCRIPT", "EXISTS", sha])).toEqual([0]);
  const script = fx.redis.createScript<number>(body);
  expect(await script.exec([fx.key("script")], ["4"])).toBe(4);
  expect(await script.exec([fx.key("script")], ["4"])).toBe(8);
  expect(await fx.direct.send(["SCRIPT", "EXISTS", sha])).toEqual([1]);
  expect(await script.evalsha([fx.key("script")], ["1"])).toBe(9);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { type BridgeFixture, startBridge } from "./bridge.ts";

let fx: BridgeFixture;

beforeAll(async () => {
  fx = await startBridge("pipelines");
});
afterAll(() => fx.close());

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

test("a pipeline with a failing command in the middle runs every command", async () => {
  const k = fx.key("p");
  const pipeline = fx.redis.pipeline();
  pipeline.set(k, "1");
  pipeline.lpush(k, "x");
  pipeline.incr(k);
  pipeline.get(k);
  const entries = await pipeline.exec({ keepErrors: true });
  expect(entries.map((e) => e.error ?? null)).toEqual([null, WRONGTYPE, null, null]);
  expect(entries.map((e) => e.result ?? null)).toEqual(["OK", null, 2, 2]);

  const again = fx.redis.pipeline();
  again.get(k);
  again.lpush(k, "x");
  await expect(again.exec()).rejects.toThrow(`Command 2 [ lpush ] failed: ${WRONGTYPE}`);
});

test("multi() with a runtime error inside: the others commit, the error is reported", async () => {
  const k = fx.key("m");
  const tx = fx.redis.multi();
  tx.set(k, "a");
  tx.lpush(k, "x");
  tx.append(k, "b");
  await expect(tx.exec()).rejects.toThrow(WRONGTYPE);
  expect(await fx.direct.callString(["GET", k])).toBe("ab");

  const kept = fx.redis.multi();
  kept.incr(fx.key("m2"));
  kept.lpush(k, "x");
  kept.incr(fx.key("m2"));
  const entries = await kept.exec({ keepErrors: true });
  expect(entries.map((e) => e.error ?? null)).toEqual([null, WRONGTYPE, null]);
  expect(entries[2]?.result).toBe(2);
});

test("a transaction aborted at queue time is a 400, and nothing of it runs", async () => {
  const k = fx.key("abort");
  const tx = fx.redis.multi();
  tx.set(k, "should-not-exist");
  // An unknown command fails when queued, so Redis discards the whole transaction.
  (tx as unknown as { chain(command: unknown): void }).chain({
    command: ["nosuchcommand", k],
    deserialize: (x: unknown) => x,
  });
  await expect(tx.exec()).rejects.toThrow("EXECABORT Transaction discarded because of previous errors.");
  expect(await fx.direct.send(["EXISTS", k])).toBe(0);
});

test("concurrent transactions each get their own connection", async () => {
  const counter = fx.key("concurrent-tx");
  const results = await Promise.all(
    Array.from({ length: 20 }, () => {
      const tx = fx.redis.multi();
      tx.incr(counter);
      tx.incr(counter);
      return tx.exec<[number, number]>();
    }),
  );
  for (const [a, b] of results) expect(b).toBe(a + 1); // nothing interleaved inside a transaction
  expect(await fx.direct.callNumber(["GET", counter])).toBe(40);
});

test("200 concurrent auto-pipelined commands return in order", async () => {
  const redis = fx.client({ enableAutoPipelining: true });
  const keys = Array.from({ length: 200 }, (_, i) => fx.key(`auto:${i}`));
  await Promise.all(keys.map((k, i) => redis.set(k, `value-${i}`)));
  const values = await Promise.all(
    keys.map((k, i) => (i % 2 === 0 ? redis.get<string>(k) : redis.strlen(k))),
  );
  values.forEach((value, i) => {
    expect(value).toBe(i % 2 === 0 ? `value-${i}` : `value-${i}`.length);
  });
  const { pipelineCounter } = redis as unknown as { pipelineCounter: number };
  expect(pipelineCounter).toBeGreaterThan(0);
  expect(pipelineCounter).toBeLessThan(20); // batched, not one request per command
});

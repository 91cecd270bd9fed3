import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Redis } from "@upstash/redis";
import { type BridgeFixture, startBridge, token } from "./bridge.ts";

let fx: BridgeFixture;
let redis: Redis;
let key: BridgeFixture["key"];

beforeAll(async () => {
  fx = await startBridge("data-types");
  redis = fx.redis;
  key = fx.key;
});
afterAll(() => fx.close());

describe("strings", () => {
  test("set, get, incr, expiry, mget, nil", async () => {
    expect(await redis.set(key("s"), "hello")).toBe("OK");
    expect(await redis.get<string>(key("s"))).toBe("hello");
    expect(await redis.append(key("s"), " world")).toBe(11);
    expect(await redis.incrby(key("n"), 5)).toBe(5);
    expect(await redis.incrbyfloat(key("n"), 0.5)).toBe(5.5);
    expect(await redis.set(key("ttl"), "x", { ex: 100 })).toBe("OK");
    expect(await redis.ttl(key("ttl"))).toBeGreaterThan(90);
    expect(await redis.set(key("ttl"), "y", { nx: true })).toBeNull();
    expect(await redis.mget<(string | null)[]>(key("s"), key("missing"))).toEqual(["hello world", null]);
    expect(await redis.get(key("missing"))).toBeNull();
    expect(await fx.direct.callString(["GET", key("s")])).toBe("hello world");
  });

  test("JSON values are stored as JSON text and parsed back by the client", async () => {
    const value = { campaign: "spring", clicks: 42, tags: ["a", "b"], nested: { ok: true, none: null } };
    await redis.set(key("json"), value);
    expect(await redis.get(key("json"))).toEqual(value);
    expect(JSON.parse((await fx.direct.callString(["GET", key("json")])) as string)).toEqual(value);
  });

  test("unicode and binary-ish strings round-trip exactly", async () => {
    const tricky = [
      "\u0000\u00ff\u0001 tab\t cr\r lf\n",
      "🚀 émoji — 日本語 🏳️‍🌈",
      '"quoted" \\back\\slash',
      "OK",
      "1e3",
    ];
    for (const [i, value] of tricky.entries()) {
      await redis.set(key(`u${i}`), value);
      expect(await redis.get<string>(key(`u${i}`))).toBe(value);
      expect(await fx.direct.callString(["GET", key(`u${i}`)])).toBe(value);
    }
  });

  test("a 1 MB value round-trips", async () => {
    const value = `${"x".repeat(1024 * 1024 - 7)}🚀end`;
    await redis.set(key("big"), value);
    expect(await redis.strlen(key("big"))).toBe(Buffer.byteLength(value));
    expect(await redis.get<string>(key("big"))).toBe(value);
  });

  test("integers beyond 2^53 arrive as JSON numbers with exact digits", async () => {
    await fx.direct.call(["SET", key("huge"), "9007199254740992"]);
    const response = await fetch(fx.bridge.url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify(["incr", key("huge")]),
    });
    expect(await response.text()).toBe('{"result":9007199254740993}');
  });

  test("a wrong-type command fails with Redis's exact text", async () => {
    await redis.set(key("wt"), "x");
    await expect(redis.lpush(key("wt"), "a")).rejects.toThrow(
      "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
  });
});

test("hashes", async () => {
  expect(await redis.hset(key("h"), { name: "ad-1", clicks: 3, meta: { a: 1 } })).toBe(3);
  expect(await redis.hget<string>(key("h"), "name")).toBe("ad-1");
  expect(await redis.hincrby(key("h"), "clicks", 2)).toBe(5);
  expect(await redis.hgetall(key("h"))).toEqual({ name: "ad-1", clicks: 5, meta: { a: 1 } });
  expect(await redis.hmget(key("h"), "name", "nope")).toEqual({ name: "ad-1", nope: null });
  expect((await redis.hkeys(key("h"))).sort()).toEqual(["clicks", "meta", "name"]);
  expect(await redis.hdel(key("h"), "meta")).toBe(1);
  expect(await redis.hlen(key("h"))).toBe(2);
});

test("lists", async () => {
  expect(await redis.rpush(key("l"), "a", "b", "c")).toBe(3);
  expect(await redis.lpush(key("l"), "z")).toBe(4);
  expect(await redis.lrange(key("l"), 0, -1)).toEqual(["z", "a", "b", "c"]);
  expect(await redis.lpop<string>(key("l"))).toBe("z");
  expect(await redis.rpop<string[]>(key("l"), 2)).toEqual(["c", "b"]);
  expect(await redis.llen(key("l"))).toBe(1);
  expect(await redis.lmove(key("l"), key("l2"), "left", "right")).toBe("a");
  expect(await fx.direct.send(["LRANGE", key("l2"), "0", "-1"])).toEqual([Buffer.from("a")]);
});

test("sets", async () => {
  expect(await redis.sadd(key("set"), "a", "b", "c")).toBe(3);
  expect(await redis.sismember(key("set"), "b")).toBe(1);
  expect((await redis.smembers(key("set"))).sort()).toEqual(["a", "b", "c"]);
  await redis.sadd(key("set2"), "b", "c", "d");
  expect((await redis.sinter(key("set"), key("set2"))).sort()).toEqual(["b", "c"]);
  expect(await redis.scard(key("set"))).toBe(3);
  expect(await redis.srem(key("set"), "a")).toBe(1);
});

test("sorted sets, with float scores as strings on the wire", async () => {
  expect(await redis.zadd(key("z"), { score: 1.5, member: "ad-1" }, { score: 10, member: "ad-2" })).toBe(2);
  expect(await redis.zincrby(key("z"), 0.25, "ad-1")).toBe(1.75);
  expect(await redis.zscore(key("z"), "ad-1")).toBe(1.75);
  expect(await redis.zrange(key("z"), 0, -1, { withScores: true })).toEqual(["ad-1", 1.75, "ad-2", 10]);
  expect(await redis.zrange(key("z"), 0, 0, { rev: true })).toEqual(["ad-2"]);
  expect(await redis.zrank(key("z"), "ad-2")).toBe(1);
  expect(await redis.zcard(key("z"))).toBe(2);
  expect(await redis.zpopmin(key("z"))).toEqual(["ad-1", 1.75]);
});

test("streams with a consumer group: XADD, XGROUP CREATE, XREADGROUP, XPENDING, XAUTOCLAIM, XACK", async () => {
  const stream = key("stream");
  const first = await redis.xadd(stream, "*", { kind: "click", ad: "ad-1" });
  const second = await redis.xadd(stream, "*", { kind: "view", ad: "ad-2" });
  expect(first).toMatch(/^\d+-\d+$/);
  expect((await redis.xgroup(stream, { type: "CREATE", group: "sink", id: "0" })) as unknown).toBe("OK");
  const read = (await redis.xreadgroup("sink", "c1", stream, ">", { count: 10 })) as [
    string,
    [string, string[]][],
  ][];
  expect(read).toEqual([
    [
      stream,
      [
        [first, ["kind", "click", "ad", "ad-1"]],
        [second, ["kind", "view", "ad", "ad-2"]],
      ],
    ],
  ]);
  const pending = (await redis.xpending(stream, "sink", "-", "+", 10)) as [string, string, number, number][];
  expect(pending.map((entry) => [entry[0], entry[1], entry[3]])).toEqual([
    [first, "c1", 1],
    [second, "c1", 1],
  ]);
  expect(await redis.xack(stream, "sink", first)).toBe(1);
  const claimed = (await redis.xautoclaim(stream, "sink", "c2", 0, "0-0")) as [
    string,
    [string, string[]][],
    string[],
  ];
  expect(claimed[0]).toBe("0-0");
  expect(claimed[1]).toEqual([[second, ["kind", "view", "ad", "ad-2"]]]);
  const summary = (await fx.direct.call(["XPENDING", stream, "sink"])) as [
    number,
    Buffer,
    Buffer,
    Buffer[][],
  ];
  expect(summary[0]).toBe(1);
  expect(summary[3].map((pair) => pair.map(String))).toEqual([["c2", "1"]]);
});

test("keys, scan, exists, del, type", async () => {
  await redis.set(key("scan:a"), 1);
  await redis.set(key("scan:b"), 2);
  expect((await redis.keys(key("scan:*"))).sort()).toEqual([key("scan:a"), key("scan:b")]);
  // The shared Redis holds other keys too: follow the cursor to the end, as any SCAN caller must.
  const found: string[] = [];
  let cursor: string | number = 0;
  do {
    const [next, page]: [string | number, string[]] = await redis.scan(cursor, {
      match: key("scan:*"),
      count: 1000,
    });
    found.push(...page);
    cursor = next;
  } while (String(cursor) !== "0");
  expect(found.sort()).toEqual([key("scan:a"), key("scan:b")]);
  expect(await redis.exists(key("scan:a"), key("scan:b"), key("scan:c"))).toBe(2);
  expect(await redis.type(key("scan:a"))).toBe("string");
  expect(await redis.del(key("scan:a"), key("scan:b"))).toBe(2);
});

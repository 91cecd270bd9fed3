import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { type BridgeFixture, startBridge, token } from "./bridge.ts";

let fx: BridgeFixture;

beforeAll(async () => {
  fx = await startBridge("protocol");
});
afterAll(() => fx.close());

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fx.bridge.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    body,
  });
}

describe("authentication", () => {
  test("a wrong token makes the client throw, and nothing runs", async () => {
    const intruder = new Redis({ url: fx.bridge.url, token: "wrong", retry: false });
    await expect(intruder.set(fx.key("intruder"), "x")).rejects.toThrow(/Unauthorized/);
    expect(await fx.direct.send(["EXISTS", fx.key("intruder")])).toBe(0);
  });

  test("a missing token is a 401 with a JSON error", async () => {
    const response = await fetch(fx.bridge.url, { method: "POST", body: '["ping"]' });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toMatch(/bearer token/);
  });
});

describe("malformed bodies are 400 with a JSON error", () => {
  const cases: [string, string, string, RegExp][] = [
    ["not JSON", "/", "[set", /parse the request body as JSON/],
    ["not an array", "/", '{"cmd":"get"}', /command must be a non-empty JSON array/],
    ["an empty command", "/", "[]", /command must be a non-empty JSON array/],
    [
      "an object argument",
      "/",
      '["set","k",{"a":1}]',
      /command, argument 2: expected a string, number or boolean/,
    ],
    ["an empty pipeline", "/pipeline", "[]", /non-empty JSON array of commands/],
    ["a pipeline of strings", "/pipeline", '["get","k"]', /command 1 must be a non-empty JSON array/],
    ["a bad transaction entry", "/multi-exec", '[["get","k"],[["nested"]]]', /command 2, argument 0/],
  ];
  for (const [what, path, body, message] of cases) {
    test(what, async () => {
      const response = await post(path, body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    });
  }
});

test("arguments are converted with String(): numbers and booleans", async () => {
  const response = await post("/", JSON.stringify(["set", fx.key("bool"), true]));
  expect(await response.json()).toEqual({ result: "OK" });
  expect(await fx.direct.callString(["GET", fx.key("bool")])).toBe("true");
  await post("/", JSON.stringify(["set", fx.key("num"), 1.5]));
  expect(await fx.direct.callString(["GET", fx.key("num")])).toBe("1.5");
});

test("base64 encoding covers every string at every depth, OK included; integers and nil are not encoded", async () => {
  await fx.direct.call(["RPUSH", fx.key("b64"), "a", "é"]);
  const headers = { "Upstash-Encoding": "base64" };
  const response = await post(
    "/pipeline",
    JSON.stringify([
      ["set", fx.key("b64s"), "v"],
      ["lrange", fx.key("b64"), 0, -1],
      ["llen", fx.key("b64")],
      ["get", fx.key("none")],
      ["lpush", fx.key("b64s"), "x"],
    ]),
    headers,
  );
  expect(await response.json()).toEqual([
    { result: btoa("OK") },
    { result: [btoa("a"), Buffer.from("é").toString("base64")] },
    { result: 2 },
    { result: null },
    { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
  ]);
  const plain = await post("/", JSON.stringify(["lrange", fx.key("b64"), 0, -1]));
  expect(await plain.json()).toEqual({ result: ["a", "é"] });
});

test("responseEncoding false (plain JSON strings) works with the client", async () => {
  const plain = fx.client({ responseEncoding: false });
  expect(await plain.set(fx.key("plain"), "ünïcødé 🚀")).toBe("OK");
  expect(await plain.get<string>(fx.key("plain"))).toBe("ünïcødé 🚀");
  expect(await plain.hset(fx.key("plain-h"), { a: 1 })).toBe(1);
  expect(await plain.hgetall(fx.key("plain-h"))).toEqual({ a: 1 });
});

test("every response carries a new upstash-sync-token, and the client echoes it", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const response = await post("/", '["ping"]');
    seen.add(response.headers.get("upstash-sync-token") ?? "");
  }
  const failed = await post("/", '["nosuchcommand"]');
  seen.add(failed.headers.get("upstash-sync-token") ?? "");
  seen.delete("");
  expect(seen.size).toBe(4);

  const client = fx.client();
  const http = (client as unknown as { client: { upstashSyncToken: string } }).client;
  await client.ping();
  const first = http.upstashSyncToken;
  await client.ping();
  expect(first).not.toBe("");
  expect(http.upstashSyncToken).not.toBe(first);
});

test("telemetry headers are ignored", async () => {
  const response = await post("/", '["ping"]', {
    "Upstash-Telemetry-Sdk": "upstash-redis@v1.39.0",
    "Upstash-Telemetry-Runtime": "bun",
  });
  expect(await response.json()).toEqual({ result: "PONG" });
});

describe("commands the bridge refuses get a 400 naming them", () => {
  const refused: [unknown[], RegExp][] = [
    [["subscribe", "ch"], /^ERR SUBSCRIBE is not supported on this path: use POST \/subscribe/],
    [["psubscribe", "ch*"], /^ERR PSUBSCRIBE is not supported/],
    [["multi"], /^ERR MULTI is not supported on this path: .*\/multi-exec/],
    [["exec"], /^ERR EXEC is not supported/],
    [["watch", "k"], /^ERR WATCH is not supported/],
    [["select", 1], /^ERR SELECT is not supported by the REST bridge/],
    [["monitor"], /^ERR MONITOR is not supported/],
    [["quit"], /^ERR QUIT is not supported/],
    [["hello", 3], /^ERR HELLO is not supported/],
    [["auth", "x"], /^ERR AUTH is not supported/],
    [["client", "reply", "off"], /^ERR CLIENT REPLY is not supported/],
    [["client", "setname", "x"], /^ERR CLIENT SETNAME is not supported/],
  ];
  for (const [command, message] of refused) {
    test(String(command[0]), async () => {
      const response = await post("/", JSON.stringify(command));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    });
  }

  test("inside a pipeline, a refused command is an error entry and the others still run", async () => {
    const response = await post(
      "/pipeline",
      JSON.stringify([
        ["set", fx.key("pipe-refused"), "1"],
        ["select", "2"],
        ["get", fx.key("pipe-refused")],
      ]),
    );
    const entries = (await response.json()) as { result?: unknown; error?: string }[];
    expect(entries[0]).toEqual({ result: "OK" });
    expect(entries[1]?.error).toMatch(/^ERR SELECT is not supported/);
    expect(entries[1]).not.toHaveProperty("result");
    expect(entries[2]).toEqual({ result: "1" });
  });

  test("inside a transaction, a refused command rejects the whole transaction", async () => {
    const response = await post(
      "/multi-exec",
      JSON.stringify([
        ["set", fx.key("tx-refused"), "1"],
        ["watch", "k"],
      ]),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /WATCH is not allowed inside \/multi-exec/,
    );
    expect(await fx.direct.send(["EXISTS", fx.key("tx-refused")])).toBe(0);
  });

  test("the shared connection still works afterwards, on the same database", async () => {
    expect(await fx.redis.ping()).toBe("PONG");
  });
});

test("Upstash's URL form: GET /get/<key> and POST /set/<key> with the value as body", async () => {
  const k = fx.key("path/form é");
  const set = await fetch(`${fx.bridge.url}/set/${encodeURIComponent(k)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: "value from body",
  });
  expect(await set.json()).toEqual({ result: "OK" });
  const get = await fetch(`${fx.bridge.url}/get/${encodeURIComponent(k)}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(await get.json()).toEqual({ result: "value from body" });
});

test("Redis unavailable at start-up is a clear error", async () => {
  const { startRedisRest } = await import("../../../src/local/redis-rest/index.ts");
  await expect(startRedisRest({ redisUrl: "redis://127.0.0.1:1", port: 0, token })).rejects.toThrow(
    /Cannot connect to Redis at 127.0.0.1:1/,
  );
});

test("the bridge reconnects when its shared Redis connection is lost", async () => {
  const id = await fx.redis.exec<number>(["client", "id"]);
  await fx.direct.call(["CLIENT", "KILL", "ID", id]);
  await Bun.sleep(50);
  expect(await fx.redis.ping()).toBe("PONG");
  expect(await fx.redis.exec<number>(["client", "id"])).not.toBe(id);
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RespConnection, RespError, type TransportKind } from "../../../src/local/resp/index.ts";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `test:resp:${crypto.randomUUID()}:`;

for (const transport of ["node", "bun"] as TransportKind[]) {
  describe(`RespConnection over ${transport}`, () => {
    let redis: RespConnection;
    const key = (name: string) => `${prefix}${transport}:${name}`;

    beforeAll(async () => {
      redis = await RespConnection.connect(redisUrl, { transport });
    });

    afterAll(async () => {
      const keys = (await redis.call(["KEYS", `${prefix}${transport}:*`])) as Buffer[];
      if (keys.length > 0) await redis.call(["DEL", ...keys]);
      await redis.close();
    });

    test("decodes strings as Buffers, integers as numbers, nil as null, arrays as arrays", async () => {
      expect(await redis.send(["SET", key("s"), "héllo"])).toEqual(Buffer.from("OK"));
      expect(await redis.callString(["GET", key("s")])).toBe("héllo");
      expect(await redis.send(["INCRBY", key("n"), 41])).toBe(41);
      expect(await redis.callNumber(["INCR", key("n")])).toBe(42);
      expect(await redis.send(["GET", key("missing")])).toBeNull();
      await redis.call(["RPUSH", key("l"), "a", "b"]);
      expect(await redis.send(["LRANGE", key("l"), 0, -1])).toEqual([Buffer.from("a"), Buffer.from("b")]);
      expect(await redis.send(["BLPOP", key("empty"), "0.01"])).toBeNull();
    });

    test("keeps integers beyond 2^53 exact as bigint", async () => {
      await redis.call(["SET", key("big"), "9007199254740992"]);
      expect(await redis.send(["INCR", key("big")])).toBe(9007199254740993n);
      await redis.call(["SET", key("neg"), "-9223372036854775807"]);
      expect(await redis.send(["DECR", key("neg")])).toBe(-9223372036854775808n);
    });

    test("error replies resolve as RespError with the exact text; call() throws them", async () => {
      await redis.call(["SET", key("str"), "x"]);
      const reply = await redis.send(["LPUSH", key("str"), "a"]);
      expect(reply).toBeInstanceOf(RespError);
      expect((reply as RespError).message).toBe(
        "WRONGTYPE Operation against a key holding the wrong kind of value",
      );
      expect((reply as RespError).name).toBe("RespError");
      await expect(redis.call(["NOSUCHCOMMAND"])).rejects.toThrow(/^ERR unknown command 'NOSUCHCOMMAND'/);
    });

    test("binary values survive the round trip", async () => {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await redis.call(["SET", key("bin"), bytes]);
      expect(await redis.send(["GET", key("bin")])).toEqual(bytes);
      await redis.call(["SET", key("u8"), new Uint8Array([0, 13, 10, 255])]);
      expect(await redis.send(["GET", key("u8")])).toEqual(Buffer.from([0, 13, 10, 255]));
      await redis.call(["SET", key("emoji"), "🚀\u0000\r\n"]);
      expect(await redis.callString(["GET", key("emoji")])).toBe("🚀\u0000\r\n");
    });

    test("a 1 MB value arrives whole", async () => {
      const value = "0123456789abcdef".repeat(65536);
      await redis.call(["SET", key("mb"), value]);
      const replies = await Promise.all([
        redis.callString(["GET", key("mb")]),
        redis.send(["STRLEN", key("mb")]),
      ]);
      expect(replies[0]).toBe(value);
      expect(replies[1]).toBe(value.length);
    });

    test("thousands of concurrent callers get their own replies, in order", async () => {
      const count = 5000;
      const replies = await Promise.all(
        Array.from({ length: count }, (_, i) => redis.send(["ECHO", `${i}:${"v".repeat(i % 97)}`])),
      );
      replies.forEach((reply, i) => {
        expect((reply as Buffer).toString()).toBe(`${i}:${"v".repeat(i % 97)}`);
      });
    });

    test("pipeline keeps order and returns the failing command's error as a value", async () => {
      const replies = await redis.pipeline([
        ["SET", key("p"), "1"],
        ["LPUSH", key("p"), "x"],
        ["INCR", key("p")],
      ]);
      expect(replies[0]).toEqual(Buffer.from("OK"));
      expect(replies[1]).toBeInstanceOf(RespError);
      expect(replies[2]).toBe(2);
      expect(await redis.pipeline([])).toEqual([]);
    });

    test("push mode delivers pub/sub messages", async () => {
      const subscriber = await RespConnection.connect(redisUrl, { transport });
      const messages: string[] = [];
      const got = new Promise<void>((resolve) => {
        subscriber.onPush((reply) => {
          messages.push((reply as Buffer[]).map(String).join(","));
          if (messages.length === 2) resolve();
        });
      });
      const channel = key("chan");
      subscriber.sendNoReply(["SUBSCRIBE", channel]);
      while ((await redis.send(["PUBLISH", channel, "hi"])) === 0) await Bun.sleep(5);
      await got;
      expect(messages).toEqual([`subscribe,${channel},1`, `message,${channel},hi`]);
      await subscriber.close();
    });

    test("a lost connection rejects pending commands and later ones with a clear error", async () => {
      const doomed = await RespConnection.connect(redisUrl, { transport, name: `${prefix}doomed` });
      const id = await doomed.callNumber(["CLIENT", "ID"]);
      // Settle into a value at once, so the rejection is never an unhandled one.
      const blocked = doomed.send(["BLPOP", key("never"), "5"]).then(
        () => undefined,
        (error: Error) => error,
      );
      // Kill only once Redis is blocked on the pop, so the command is pending rather than not yet written.
      while (!(await redis.callString(["CLIENT", "LIST", "ID", String(id)]))?.includes("cmd=blpop")) {
        await Bun.sleep(5);
      }
      await redis.call(["CLIENT", "KILL", "ID", id]);
      expect((await blocked)?.message).toMatch(/^Redis connection to .* closed/);
      await doomed.closed;
      await expect(doomed.send(["PING"])).rejects.toThrow(/closed/);
    });
  });
}

describe("RespConnection.connect", () => {
  test("selects the database from the URL path", async () => {
    const name = `${prefix}db`;
    const db3 = await RespConnection.connect(`${redisUrl.replace(/\/\d*$/, "")}/3`);
    await db3.call(["SET", name, "in-3"]);
    const db0 = await RespConnection.connect(redisUrl);
    expect(await db0.send(["GET", name])).toBeNull();
    expect(await db3.callString(["GET", name])).toBe("in-3");
    await db3.call(["DEL", name]);
    await Promise.all([db3.close(), db0.close()]);
  });

  test("names the connection for CLIENT LIST", async () => {
    const name = `fairway-test-${crypto.randomUUID().slice(0, 8)}`;
    const named = await RespConnection.connect(redisUrl, { name });
    expect(await named.callString(["CLIENT", "GETNAME"])).toBe(name);
    await named.close();
  });

  test("rejects when AUTH fails, with Redis's text", async () => {
    const url = new URL(redisUrl);
    url.password = "wrong-password";
    await expect(RespConnection.connect(url.toString())).rejects.toThrow(/^(ERR|WRONGPASS)/);
  });

  test("rejects with a clear error when nothing listens", async () => {
    await expect(RespConnection.connect("redis://127.0.0.1:1")).rejects.toThrow(
      /^Cannot connect to Redis at 127.0.0.1:1/,
    );
  });
});

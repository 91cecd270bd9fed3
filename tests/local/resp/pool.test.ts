import { afterAll, expect, test } from "bun:test";
import { RespConnection, RespPool } from "../../../src/local/resp/index.ts";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `test:resp-pool:${crypto.randomUUID()}:`;
const pool = new RespPool(redisUrl, { max: 2, maxIdle: 1 });

afterAll(async () => {
  await pool.close();
});

test("reuses an idle connection", async () => {
  const first = await pool.acquire();
  pool.release(first);
  const second = await pool.acquire();
  expect(second).toBe(first);
  pool.release(second);
});

test("bounds open connections; a checkout waits for a release", async () => {
  const a = await pool.acquire();
  const b = await pool.acquire();
  expect(pool.size).toBe(2);
  let third: RespConnection | undefined;
  const waiting = pool.acquire().then((c) => {
    third = c;
    return c;
  });
  await Bun.sleep(20);
  expect(third).toBeUndefined();
  pool.release(a);
  expect(await waiting).toBe(a);
  pool.release(a);
  pool.release(b);
  expect(pool.size).toBe(1); // maxIdle = 1: the second one was closed
});

test("a destroyed connection frees its slot", async () => {
  const a = await pool.acquire();
  const b = await pool.acquire();
  const waiting = pool.acquire();
  pool.destroy(a);
  const c = await waiting;
  expect(c).not.toBe(a);
  expect(await c.callString(["PING"])).toBe("PONG");
  pool.release(b);
  pool.release(c);
});

test("blocking commands on dedicated connections are served by a push from elsewhere", async () => {
  const key = `${prefix}jobs`;
  const direct = await RespConnection.connect(redisUrl);
  const popped = pool.use((redis) => redis.call(["BLPOP", key, "5"]));
  await Bun.sleep(20);
  await direct.call(["RPUSH", key, "job-1"]);
  expect(((await popped) as Buffer[]).map(String)).toEqual([key, "job-1"]);
  await direct.call(["DEL", key]);
  await direct.close();
});

test("use() destroys the connection when the work throws", async () => {
  let used: RespConnection | undefined;
  await expect(
    pool.use(async (redis) => {
      used = redis;
      await redis.call(["LPUSH"]);
    }),
  ).rejects.toThrow(/wrong number of arguments/);
  await used?.closed;
  expect(used?.isOpen).toBe(false);
});

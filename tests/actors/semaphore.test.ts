// The Redis semaphore's promises, each checked from outside against real Redis through the REST bridge.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fileURLToPath } from "node:url";
import { newLeaseToken, Semaphore } from "../../actors/semaphore/semaphore.ts";
import { openRedisFixture, type RedisFixture, redisNow } from "./semaphore-support.ts";

let fx: RedisFixture;
const key = (name: string) => `${fx.prefix}:${name}`;

beforeAll(async () => {
  fx = await openRedisFixture("sem");
});

afterAll(async () => {
  await fx.close([`${fx.prefix}:*`]);
});

describe("semaphore", () => {
  test("200 concurrent acquirers never hold more than the limit at once, and all get their turn", async () => {
    const limit = 5;
    const semaphore = new Semaphore(fx.redis, key("crowd"), { limit, ttlMs: 30_000 });
    let holding = 0;
    let mostSeen = 0;
    let mostInRedis = 0;
    let served = 0;
    let watching = true;
    // An independent observer: the number of leases Redis itself holds.
    const observer = (async () => {
      while (watching) {
        mostInRedis = Math.max(mostInRedis, await fx.redis.zcard(key("crowd")));
        await Bun.sleep(1);
      }
    })();
    const acquirer = async () => {
      const token = newLeaseToken();
      for (;;) {
        const result = await semaphore.acquire(token);
        if (result.status === "acquired") break;
        expect(result.status).toBe("full");
        await Bun.sleep(2 + Math.random() * 8);
      }
      holding++;
      mostSeen = Math.max(mostSeen, holding);
      await Bun.sleep(Math.random() * 6);
      holding--;
      expect(await semaphore.release(token)).toBe("released");
      served++;
    };
    await Promise.all(Array.from({ length: 200 }, acquirer));
    watching = false;
    await observer;
    expect(served).toBe(200);
    expect(mostSeen).toBeLessThanOrEqual(limit);
    expect(mostInRedis).toBeLessThanOrEqual(limit);
    // The crowd really contended: the limit was reached, so the bound above was tested, not just met.
    expect(mostSeen).toBe(limit);
    expect(await fx.redis.zcard(key("crowd"))).toBe(0);
  }, 60_000);

  test("a SIGKILLed holder's permit is reclaimed once its TTL has passed, not before", async () => {
    const ttlMs = 1500;
    const child = Bun.spawn(
      [process.execPath, fileURLToPath(new URL("./semaphore-holder.ts", import.meta.url))],
      {
        env: {
          ...process.env,
          REDIS_REST_URL: fx.bridge.url,
          REDIS_REST_TOKEN: fx.token,
          SEM_KEY: key("killed"),
          SEM_TTL_MS: String(ttlMs),
        },
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    const line = new TextDecoder().decode(value).trim();
    expect(line).toMatch(/^acquired \d+$/);
    const expiresAt = Number(line.split(" ")[1]);
    child.kill("SIGKILL");
    await child.exited;

    const semaphore = new Semaphore(fx.redis, key("killed"), { limit: 1, ttlMs: 10_000 });
    const token = newLeaseToken();
    const first = await semaphore.acquire(token);
    expect(first.status).toBe("full"); // the dead holder's lease is still live
    let acquiredAt = 0;
    for (;;) {
      const result = await semaphore.acquire(token);
      if (result.status === "acquired") {
        acquiredAt = await redisNow(fx.redis);
        break;
      }
      await Bun.sleep(25);
    }
    // Reclaimed by the acquire that came after the expiry (on the Redis clock), and soon after it.
    expect(acquiredAt).toBeGreaterThanOrEqual(expiresAt);
    expect(acquiredAt - expiresAt).toBeLessThan(500);
    await semaphore.release(token);
  }, 20_000);

  test("release by a non-owner does nothing; release is idempotent", async () => {
    const semaphore = new Semaphore(fx.redis, key("owner"), { limit: 1, ttlMs: 30_000 });
    const owner = newLeaseToken();
    expect((await semaphore.acquire(owner)).status).toBe("acquired");
    expect(await semaphore.release(newLeaseToken())).toBe("not-held");
    expect(await fx.redis.zscore(key("owner"), owner)).not.toBeNull();
    expect((await semaphore.acquire(newLeaseToken())).status).toBe("full");
    expect(await semaphore.release(owner)).toBe("released");
    expect(await semaphore.release(owner)).toBe("not-held");
    expect((await semaphore.acquire(newLeaseToken())).status).toBe("acquired");
  });

  test("heartbeat extends a live lease but never renews an expired one", async () => {
    const semaphore = new Semaphore(fx.redis, key("beat"), { limit: 1, ttlMs: 300 });
    const token = newLeaseToken();
    const granted = await semaphore.acquire(token);
    if (granted.status !== "acquired") throw new Error("not acquired");
    await Bun.sleep(100);
    const extended = await semaphore.heartbeat(token);
    if (extended.status !== "extended") throw new Error(`heartbeat: ${extended.status}`);
    expect(extended.expiresAt).toBeGreaterThan(granted.expiresAt);

    await Bun.sleep(450); // past the extended expiry, with nobody else acquiring in between
    expect(await fx.redis.zscore(key("beat"), token)).not.toBeNull(); // still in the set: not yet reclaimed
    const late = await semaphore.heartbeat(token);
    expect(late).toEqual({ status: "expired", expiredAt: extended.expiresAt });
    expect(await fx.redis.zscore(key("beat"), token)).toBeNull();
    expect(await semaphore.heartbeat(token)).toEqual({ status: "not-held" });
    // The permit is free for someone else, and the old holder's release cannot take it from them.
    const next = newLeaseToken();
    expect((await semaphore.acquire(next)).status).toBe("acquired");
    expect(await semaphore.release(token)).toBe("not-held");
    expect((await semaphore.heartbeat(next)).status).toBe("extended");
  });

  test("a lease reclaimed by another acquirer is reported as not held", async () => {
    const semaphore = new Semaphore(fx.redis, key("reclaimed"), { limit: 1, ttlMs: 150 });
    const old = newLeaseToken();
    expect((await semaphore.acquire(old)).status).toBe("acquired");
    await Bun.sleep(250);
    expect((await semaphore.acquire(newLeaseToken())).status).toBe("acquired");
    expect(await semaphore.heartbeat(old)).toEqual({ status: "not-held" });
  });

  test("expiries come from the Redis clock, and a token cannot take two permits", async () => {
    const semaphore = new Semaphore(fx.redis, key("clock"), { limit: 3, ttlMs: 60_000 });
    const token = newLeaseToken();
    const before = await redisNow(fx.redis);
    const granted = await semaphore.acquire(token);
    const after = await redisNow(fx.redis);
    if (granted.status !== "acquired") throw new Error("not acquired");
    expect(granted.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(granted.expiresAt).toBeLessThanOrEqual(after + 60_000);
    const again = await semaphore.acquire(token);
    expect(again).toEqual({ status: "already-held", expiresAt: granted.expiresAt, holders: 1 });
  });
});

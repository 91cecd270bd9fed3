// The registry's scripts on real Redis, through the REST bridge and the official client, as edge and actors use them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import {
  claimTick,
  getInfluencer,
  listInfluencers,
  READ_WINDOW_MS,
  recordFailure,
  recordPoint,
  registerInfluencers,
  STALL_GRACE_MS,
  stopInfluencer,
} from "../../../src/domain/influencers/registry.ts";
import { nextTickAfter } from "../../../src/domain/influencers/schedule.ts";
import { decodeEntry, ENTRY_FIELD } from "../../../src/domain/influencers/stream.ts";
import { keys } from "../../../src/domain/keys.ts";
import { type RedisRest, startRedisRest } from "../../../src/local/redis-rest/index.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const run = crypto.randomUUID().slice(0, 8);
const STREAM = { key: `test:influencer-points:${run}`, maxLength: 10_000 };
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

let bridge: RedisRest;
let redis: Redis;
const tenants: string[] = [];
const tenant = () => {
  const id = `reg-${run}-${tenants.length}`;
  tenants.push(id);
  return id;
};

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: run });
  redis = new Redis({ url: bridge.url, token: run, retry: false });
});

afterAll(async () => {
  for (const t of tenants) {
    const found = await redis.keys(`{t:${t}}:*`);
    if (found.length > 0) await redis.del(...found);
  }
  await redis.del(STREAM.key);
  await bridge.stop();
});

const register = (tenantId: string, ids: string[], intervalSeconds = 1, now = NOW) =>
  registerInfluencers(redis, { tenantId, influencerIds: ids, intervalSeconds, now, precisionMs: 1 });

describe("register", () => {
  test("creates a loop and asks for its first tick until that tick has run", async () => {
    const t = tenant();
    const [created] = await register(t, ["a"]);
    expect(created).toMatchObject({ influencerId: "a", verdict: "created", publish: true });
    expect(created?.nextTickAt).toBeGreaterThan(NOW);
    expect(created?.nextTickAt).toBeLessThanOrEqual(NOW + 1000);

    const [again] = await register(t, ["a"]);
    expect(again).toEqual({ ...(created as NonNullable<typeof created>), verdict: "unchanged" });

    const first = created?.nextTickAt as number;
    expect(
      (
        await claimTick(
          redis,
          { tenantId: t, influencerId: "a", generation: created?.generation as string, at: first },
          first + 5,
        )
      ).verdict,
    ).toBe("go");
    const [running] = await register(t, ["a"], 1, first + 10);
    expect(running).toMatchObject({ verdict: "unchanged", publish: false, nextTickAt: first + 1000 });

    const [updated] = await register(t, ["a"], 5, first + 10);
    expect(updated).toMatchObject({ verdict: "updated", publish: false, generation: created?.generation });
  });

  test("after a stop, registering again starts a new loop; the old loop's tick is superseded", async () => {
    const t = tenant();
    const [first] = await register(t, ["a"]);
    expect(await stopInfluencer(redis, t, "a", NOW + 1)).toBe("stopping");
    expect(await stopInfluencer(redis, t, "a", NOW + 2)).toBe("stopped");
    expect(await stopInfluencer(redis, t, "nope", NOW + 2)).toBe("missing");
    const oldTick = {
      tenantId: t,
      influencerId: "a",
      generation: first?.generation as string,
      at: first?.nextTickAt as number,
    };
    expect((await claimTick(redis, oldTick, oldTick.at)).verdict).toBe("stopped");

    const [second] = await register(t, ["a"], 1, NOW + 3);
    expect(second?.verdict).toBe("restarted");
    expect(second?.generation).not.toBe(first?.generation);
    expect((await claimTick(redis, oldTick, oldTick.at)).verdict).toBe("superseded");
  });

  test("a loop whose next tick is long overdue is revived with a new generation", async () => {
    const t = tenant();
    const [first] = await register(t, ["a"], 10);
    const overdue = (first?.nextTickAt as number) + 10_000 + STALL_GRACE_MS + 1;
    expect((await getInfluencer(redis, t, "a", overdue))?.status).toBe("stalled");
    const [revived] = await register(t, ["a"], 10, overdue);
    expect(revived).toMatchObject({ verdict: "revived", publish: true });
    expect(revived?.generation).not.toBe(first?.generation);
  });
});

describe("claim", () => {
  test("only the loop's next tick goes; a redelivery gets the same next tick; anything else is superseded", async () => {
    const t = tenant();
    const [loop] = await register(t, ["a"], 2);
    const gen = loop?.generation as string;
    const at = loop?.nextTickAt as number;
    const tick = (at: number, generation = gen) => ({ tenantId: t, influencerId: "a", generation, at });

    expect(await claimTick(redis, tick(at), at + 3)).toEqual({
      verdict: "go",
      nextTickAt: at + 2000,
      intervalSeconds: 2,
      recorded: false,
      late: false,
    });
    expect(await claimTick(redis, tick(at), at + 900)).toMatchObject({
      verdict: "again",
      nextTickAt: at + 2000,
    });
    expect((await claimTick(redis, tick(at + 1000), at + 900)).verdict).toBe("superseded"); // off the loop's grid
    expect((await claimTick(redis, tick(at + 2000, "gother"), at + 2000)).verdict).toBe("superseded");
    expect((await claimTick(redis, { ...tick(at + 2000), influencerId: "zz" }, at)).verdict).toBe("gone");
    expect((await claimTick(redis, tick(at + 2000), at + 2001)).verdict).toBe("go");
    expect((await claimTick(redis, tick(at), at + 2002)).verdict).toBe("superseded"); // an old tick, delivered again
  });

  test("a tick starting within the read window of its next tick is late and sheds the next slot", async () => {
    const t = tenant();
    const [loop] = await register(t, ["a"], 1);
    const at = loop?.nextTickAt as number;
    const tick = { tenantId: t, influencerId: "a", generation: loop?.generation as string, at };
    const claim = await claimTick(redis, tick, at + 1000 - READ_WINDOW_MS);
    // It sheds the slot right after it too: that tick would start too late as well.
    expect(claim).toMatchObject({ verdict: "go", late: true, nextTickAt: at + 2000 });
    expect((await getInfluencer(redis, t, "a", at + 1000))?.missed).toBe(2);
  });

  test("a late tick skips the grid times already past, like nextTickAfter, and counts what it missed", async () => {
    const t = tenant();
    const [loop] = await register(t, ["a"], 5);
    const at = loop?.nextTickAt as number;
    const now = at + 17_300;
    const claim = await claimTick(
      redis,
      { tenantId: t, influencerId: "a", generation: loop?.generation as string, at },
      now,
    );
    expect(claim).toMatchObject({
      verdict: "go",
      late: true,
      nextTickAt: nextTickAfter(at, 5, now, READ_WINDOW_MS).next,
    });
    expect((await getInfluencer(redis, t, "a", now))?.missed).toBe(4); // at itself (late) and the 3 skipped
  });
});

describe("recording and listing", () => {
  test("a recorded point lands on the stream and the hash; a redelivered tick sees it recorded", async () => {
    const t = tenant();
    const [loop] = await register(t, ["1e3"]);
    const at = loop?.nextTickAt as number;
    const tick = { tenantId: t, influencerId: "1e3", generation: loop?.generation as string, at };
    await claimTick(redis, tick, at + 1);
    const counters = { followers: 10, following: 2, posts: 3, likes: 40, comments: 5, views: null };
    const point = {
      kind: "point",
      tenantId: t,
      influencerId: "1e3",
      ts: at,
      startedAt: at + 2,
      fetchedAt: at + 7,
      intervalSeconds: 1,
      counters,
    } as const;
    await recordPoint(redis, STREAM, point);
    expect((await claimTick(redis, tick, at + 2)).recorded).toBe(true);

    const entries = (await redis.xrange(STREAM.key, "-", "+")) as Record<string, Record<string, unknown>>;
    const mine = Object.values(entries)
      .map((fields) => decodeEntry(fields[ENTRY_FIELD]))
      .filter((e) => e?.tenantId === t);
    expect(mine).toEqual([point]);

    const view = await getInfluencer(redis, t, "1e3", at + 10);
    expect(view).toMatchObject({
      id: "1e3",
      status: "active",
      points: 1,
      lastSeenAt: new Date(at + 7).toISOString(),
      lastPointAt: new Date(at).toISOString(),
    });
  });

  test("lists in registration order with each status; ids that look like numbers come back unchanged", async () => {
    const t = tenant();
    const ids = ["1e3", "1.50", "007", "plain"];
    for (const [i, id] of ids.entries()) await register(t, [id], 1, NOW + i);
    await stopInfluencer(redis, t, "007", NOW + 10);
    await recordFailure(redis, STREAM, {
      kind: "status",
      tenantId: t,
      influencerId: "plain",
      status: "active",
      intervalSeconds: 1,
      error: "503",
      at: NOW + 20,
    });

    const page = await listInfluencers(redis, t, { offset: 0, limit: 10, now: NOW + 30 });
    expect(page.total).toBe(4);
    expect(page.influencers.map((i) => i.id)).toEqual(ids);
    expect(page.influencers.map((i) => i.status)).toEqual(["pending", "pending", "stopped", "failing"]);
    expect(page.influencers[3]).toMatchObject({ lastError: "503", failures: 1 });
    const second = await listInfluencers(redis, t, { offset: 2, limit: 1, now: NOW + 30 });
    expect(second.influencers.map((i) => i.id)).toEqual(["007"]);
    expect(await getInfluencer(redis, t, "missing", NOW)).toBeUndefined();
    expect(await redis.exists(keys.influencer(t, "1.50"))).toBe(1);
  });
});

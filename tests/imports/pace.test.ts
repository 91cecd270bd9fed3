// The upload's pace against a real import status record (Redis through the REST bridge): it waits while it is
// more than its lead ahead of the chunks the import has landed and goes on as they land; no wait is longer than
// its cap (the body is not read meanwhile), and a wait in which the import did not move ends the pacing, so an
// upload never hangs on a stopped actors host.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { keys } from "../../src/domain/keys.ts";
import { ImportPace } from "../../src/edge/imports/pace.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { REDIS_URL } from "../edge/support/harness.ts";

const TOKEN = `pace-${crypto.randomUUID().slice(0, 8)}`;
const TENANT = `pace-${crypto.randomUUID().slice(0, 8)}`;
let bridge: RedisRest;
let redis: Redis;

beforeAll(async () => {
  bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN, enableTelemetry: false });
});

afterAll(async () => {
  const found = await redis.keys(`*${TENANT}*`);
  if (found.length > 0) await redis.del(...found);
  await bridge?.stop();
});

/** What the import actor's status copy says about landed chunks. */
async function landed(importId: string, chunksDone: number): Promise<void> {
  await redis.hset(keys.importRecord(TENANT, importId), { id: importId, status: "running", chunksDone });
}

test("waits while more than the lead ahead, and goes on as the import lands chunks", async () => {
  const pace = new ImportPace(redis, TENANT, "paced", { leadChunks: 10, pollMs: 10, maxWaitMs: 5_000 });
  await landed("paced", 0);
  const started = performance.now();
  await pace.ahead(10); // exactly the lead: no wait
  expect(performance.now() - started).toBeLessThan(10);

  let passed = false;
  const waiting = pace.ahead(25).then(() => {
    passed = true;
  });
  await Bun.sleep(100);
  expect(passed).toBe(false);
  await landed("paced", 10); // 15 ahead: still waiting
  await Bun.sleep(100);
  expect(passed).toBe(false);
  await landed("paced", 15);
  await waiting;
  expect(passed).toBe(true);
});

test("a slow import: each wait ends at its cap, and the next one waits again", async () => {
  const pace = new ImportPace(redis, TENANT, "slow", { leadChunks: 10, pollMs: 10, maxWaitMs: 200 });
  await landed("slow", 0);
  let landedSoFar = 0;
  const slowly = setInterval(() => {
    landedSoFar += 1;
    landed("slow", landedSoFar).catch(() => {});
  }, 30);
  try {
    const first = performance.now();
    await pace.ahead(100);
    expect(performance.now() - first).toBeGreaterThanOrEqual(200);
    const second = performance.now();
    await pace.ahead(100);
    expect(performance.now() - second).toBeGreaterThanOrEqual(200);
  } finally {
    clearInterval(slowly);
  }
});

test("an import that does not move during a wait ends the pacing for the rest of the upload", async () => {
  const pace = new ImportPace(redis, TENANT, "stalled", { leadChunks: 10, pollMs: 10, maxWaitMs: 200 });
  await landed("stalled", 0);
  const started = performance.now();
  await pace.ahead(50);
  const waited = performance.now() - started;
  expect(waited).toBeGreaterThanOrEqual(200);
  expect(waited).toBeLessThan(2_000);
  const again = performance.now();
  await pace.ahead(500);
  expect(performance.now() - again).toBeLessThan(10);
});

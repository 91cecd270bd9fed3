import { describe, expect, test } from "bun:test";
import { RedisLink } from "../../../src/local/qstash/store/redis-link.ts";
import { scripts } from "../../../src/local/qstash/store/scripts.ts";
import { REDIS_URL } from "./harness.ts";

describe("broker Lua scripts", () => {
  test("every script compiles in Redis and loads under the SHA-1 the broker sends with EVALSHA", async () => {
    const redis = await RedisLink.open(REDIS_URL, "qstash-script-test");
    try {
      for (const script of Object.values(scripts)) {
        expect(String(await redis.call(["SCRIPT", "LOAD", script.source]))).toBe(script.sha);
      }
    } finally {
      await redis.close();
    }
  });

  test("every script opens with a header naming its KEYS, ARGV and what it returns", () => {
    for (const script of Object.values(scripts)) {
      const header = script.body.slice(0, script.body.indexOf("\n\n", script.body.indexOf("-- KEYS[1]")));
      expect(header).toContain("-- KEYS[1]  key prefix (hash tag)");
      expect(header).toMatch(/-- ARGV\[(1|…)\]/);
      expect(header).toContain("-- Returns");
    }
  });
});

// Every Lua script of the query path: Redis loads it under the SHA-1 written in code (so EVALSHA hits and a
// stale SHA fails here), the client's Script computes the same SHA, and each opens with its KEYS / ARGV /
// Returns header.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { laneScripts } from "../../actors/lanes/scripts.ts";
import { queryScripts } from "../../actors/query/scripts.ts";
import type { LuaScript } from "../../actors/semaphore/lua-script.ts";
import { semaphoreScripts } from "../../actors/semaphore/scripts.ts";
import { openRedisFixture, type RedisFixture } from "./semaphore-support.ts";

const groups: Record<string, Record<string, LuaScript>> = {
  semaphore: semaphoreScripts,
  lanes: laneScripts,
  query: queryScripts,
};
const all = Object.entries(groups).flatMap(([group, scripts]) =>
  Object.values(scripts).map((script) => ({ group, script })),
);

let fx: RedisFixture;
beforeAll(async () => {
  fx = await openRedisFixture("sem-scripts");
});
afterAll(async () => {
  await fx.close([]);
});

describe("query-path Lua scripts", () => {
  test.each(all.map(({ group, script }) => [`${group}/${script.name}`, script] as const))(
    "%s loads under its embedded SHA-1",
    async (_name, script) => {
      expect(await fx.redis.scriptLoad(script.source)).toBe(script.sha);
      const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script.source));
      expect(Buffer.from(digest).toString("hex")).toBe(script.sha);
    },
  );

  test.each(all.map(({ group, script }) => [`${group}/${script.name}`, script] as const))(
    "%s opens with a KEYS / ARGV / Returns header",
    (_name, script) => {
      const header = script.body.slice(0, script.body.search(/\n\n(?!--)/));
      expect(header).toMatch(/^-- \S/);
      expect(header).toMatch(/-- KEYS\[1\] {2}\S/);
      expect(header).toMatch(/-- Returns /);
    },
  );
});

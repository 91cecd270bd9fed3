import { expect, test } from "bun:test";
import { Redis } from "@upstash/redis";
import { DEV_REDIS_REST_TOKEN } from "../../../src/local/redis-rest/index.ts";
import { redisUrl } from "./bridge.ts";

test("main.ts logs one ready line, serves with the dev token, and stops on SIGTERM", async () => {
  const child = Bun.spawn([process.execPath, "src/local/redis-rest/main.ts"], {
    env: { ...process.env, REDIS_URL: redisUrl, PORT: "0", TOKEN: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const line = new TextDecoder().decode(value);
  expect(line).toMatch(/^redis-rest ready http:\/\/127\.0\.0\.1:\d+\n$/);
  const url = (/ready (http\S+)/.exec(line) as RegExpExecArray)[1] as string;

  const redis = new Redis({ url, token: DEV_REDIS_REST_TOKEN, retry: false });
  expect(await redis.ping()).toBe("PONG");

  child.kill("SIGTERM");
  expect(await child.exited).toBe(0);
  const rest = await reader.read();
  expect(rest.done).toBe(true); // nothing after the ready line
});

test("main.ts exits with one clear line when Redis is unreachable", async () => {
  const child = Bun.spawn([process.execPath, "src/local/redis-rest/main.ts"], {
    env: { ...process.env, REDIS_URL: "redis://127.0.0.1:1", PORT: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await child.exited).toBe(1);
  expect(await new Response(child.stderr).text()).toMatch(
    /^redis-rest: cannot start: Cannot connect to Redis/,
  );
});

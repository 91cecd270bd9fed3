import { describe, expect, test } from "bun:test";
import { EdgeConfigError, readEdgeConfig } from "../../src/edge/env.ts";

describe("readEdgeConfig", () => {
  test("reads the bridge and actors URLs, trimming trailing slashes", () => {
    const config = readEdgeConfig({
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079/",
      UPSTASH_REDIS_REST_TOKEN: "t",
      ACTORS_URL: "http://127.0.0.1:8082//",
    });
    expect(config).toEqual({
      redisUrl: "http://127.0.0.1:8079",
      redisToken: "t",
      actorsUrl: "http://127.0.0.1:8082",
    });
  });

  test("names every missing variable in one error; non-string bindings count as missing", () => {
    expect(() => readEdgeConfig({ UPSTASH_REDIS_REST_TOKEN: { secret: true } })).toThrow(
      new EdgeConfigError("Missing configuration: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN"),
    );
  });

  test("ACTORS_URL is optional (health then reports Postgres as unknown)", () => {
    expect(
      readEdgeConfig({ UPSTASH_REDIS_REST_URL: "u", UPSTASH_REDIS_REST_TOKEN: "t" }).actorsUrl,
    ).toBeUndefined();
  });
});

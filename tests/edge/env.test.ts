import { describe, expect, test } from "bun:test";
import { EdgeConfigError, readEdgeConfig } from "../../src/edge/env.ts";

const REDIS = { UPSTASH_REDIS_REST_URL: "u", UPSTASH_REDIS_REST_TOKEN: "t" };

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
      actorsPublicUrl: "http://127.0.0.1:8082",
      qstash: undefined,
      operatorToken: undefined,
      query: { cacheTtlSeconds: undefined, staleGraceSeconds: undefined },
      actorSigningKey: undefined,
      influencers: { minIntervalSeconds: undefined, tickPrecisionMs: undefined },
    });
  });

  test("names every missing variable in one error; non-string bindings count as missing", () => {
    expect(() => readEdgeConfig({ UPSTASH_REDIS_REST_TOKEN: { secret: true } })).toThrow(
      new EdgeConfigError("Missing configuration: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN"),
    );
  });

  test("ACTORS_URL is optional (health then reports Postgres as unknown)", () => {
    expect(readEdgeConfig(REDIS).actorsUrl).toBeUndefined();
  });

  test("QStash, the actors' public URL, the operator token and cache settings", () => {
    const config = readEdgeConfig({
      ...REDIS,
      ACTORS_URL: "http://10.0.0.2:8082",
      ACTORS_PUBLIC_URL: "https://actors.example/",
      QSTASH_TOKEN: "q",
      FAIRWAY_OPERATOR_TOKEN: "op",
      FAIRWAY_QUERY_CACHE_TTL_SECONDS: "60",
      FAIRWAY_QUERY_STALE_GRACE_SECONDS: "0",
    });
    expect(config.actorsPublicUrl).toBe("https://actors.example");
    expect(config.qstash).toEqual({ url: "https://qstash.upstash.io", token: "q" });
    expect(config.operatorToken).toBe("op");
    expect(config.query).toEqual({ cacheTtlSeconds: 60, staleGraceSeconds: 0 });
  });

  test("a cache TTL that is not a positive integer is refused by name", () => {
    expect(() => readEdgeConfig({ ...REDIS, FAIRWAY_QUERY_CACHE_TTL_SECONDS: "0" })).toThrow(
      'FAIRWAY_QUERY_CACHE_TTL_SECONDS must be an integer >= 1, got "0"',
    );
  });
});

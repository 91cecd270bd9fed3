import { describe, expect, test } from "bun:test";
import { ApiError } from "../../../src/edge/errors.ts";
import { queryRequestFromText } from "../../../src/edge/services/query-request.ts";

const DAY = 86_400_000;
const now = Date.parse("2026-11-20T12:00:00Z");

describe("queryRequestFromText", () => {
  test("a relative range is resolved against each request's clock, never remembered", async () => {
    const text = JSON.stringify({
      measures: ["clicks"],
      timeDimension: { granularity: "day", dateRange: "last 7 days" },
    });
    const today = await queryRequestFromText(text, now);
    const tomorrow = await queryRequestFromText(text, now + DAY);
    expect(tomorrow.hash).not.toBe(today.hash);
    expect(tomorrow.askedAt).toBe(now + DAY);
  });

  test("an absolute range gives the same request whenever it is asked (and is remembered)", async () => {
    const text = JSON.stringify({
      measures: ["clicks"],
      timeDimension: { dateRange: ["2026-11-01", "2026-11-07"] },
    });
    const first = await queryRequestFromText(text, now);
    const later = await queryRequestFromText(text, now + 30 * DAY);
    expect(later.hash).toBe(first.hash);
    expect(later.canonical).toEqual(first.canonical);
    expect(later.askedAt).toBe(now + 30 * DAY);
  });

  test("the cache mode is part of the body, validated by name", async () => {
    const mode = await queryRequestFromText('{"measures":["clicks"],"cache":"no-cache"}', now);
    expect(mode.mode).toBe("no-cache");
    const error = await queryRequestFromText('{"measures":["clicks"],"cache":1}', now).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).details.fields).toEqual([
      { field: "cache", message: "must be one of default, no-cache, stale-while-revalidate" },
    ]);
  });
});

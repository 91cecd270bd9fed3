import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import type { EdgeEnv } from "../../../src/edge/context.ts";
import { REQUEST_ID_HEADER, requestId } from "../../../src/edge/middleware/request-id.ts";

const app = new Hono<EdgeEnv>();
app.use(requestId());
app.get("/", (c) => c.text(c.get("requestId")));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("requestId", () => {
  test("a fresh UUID per request, on the context and in the response header", async () => {
    const first = await app.request("/");
    const second = await app.request("/");
    const id = await first.text();
    expect(id).toMatch(UUID);
    expect(first.headers.get(REQUEST_ID_HEADER)).toBe(id);
    expect(await second.text()).not.toBe(id);
  });

  test("a plain id from the caller is kept, so logs can be joined across services", async () => {
    const response = await app.request("/", { headers: { [REQUEST_ID_HEADER]: "trace-42.a:b_c" } });
    expect(await response.text()).toBe("trace-42.a:b_c");
  });

  test("an unsafe or oversized id from the caller is replaced", async () => {
    for (const given of ["has space", "<script>", "x".repeat(129), ""]) {
      const response = await app.request("/", { headers: { [REQUEST_ID_HEADER]: given } });
      expect(await response.text()).toMatch(UUID);
    }
  });

  test("the middleware function is named, so stack traces say which one ran", () => {
    expect(requestId().name).toBe("requestIdMiddleware");
  });
});

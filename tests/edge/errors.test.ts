import { describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { HTTPException } from "hono/http-exception";
import { createApp } from "../../src/edge/app.ts";
import { ApiError } from "../../src/edge/errors.ts";

// These routes never reach Redis; the client only needs a syntactically valid URL.
const app = createApp({ redis: new Redis({ url: "http://127.0.0.1:9", token: "unused" }) });
app.get("/teapot", () => {
  throw new ApiError(418, "teapot", "I am a teapot");
});
app.get("/limit", () => {
  throw new HTTPException(413, { message: "Body larger than 1 MB" });
});
app.get("/boom", () => {
  throw new Error("database password is hunter2");
});

describe("error rendering", () => {
  test("an ApiError keeps its status, code and message, with the request id", async () => {
    const response = await app.request("/teapot", { headers: { "x-request-id": "req-1" } });
    expect(response.status).toBe(418);
    expect(await response.json()).toEqual({
      error: { code: "teapot", message: "I am a teapot", requestId: "req-1" },
    });
  });

  test("Hono's own HTTP errors get a code from their status", async () => {
    const response = await app.request("/limit");
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("payload_too_large");
    expect(body.error.message).toBe("Body larger than 1 MB");
  });

  test("anything else is a 500 that does not leak the message", async () => {
    const originalError = console.error;
    const logged: unknown[][] = [];
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      const response = await app.request("/boom");
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error.code).toBe("internal_error");
      expect(body.error.message).toBe("Internal error");
      expect(JSON.stringify(body)).not.toContain("hunter2");
      // …but it is logged, with the request id, for the operator.
      expect(String(logged[0]?.[0])).toContain(body.error.requestId);
    } finally {
      console.error = originalError;
    }
  });

  test("an unknown route is a 404 in the same shape", async () => {
    const response = await app.request("/v1/nothing-here", { method: "POST" });
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "not_found", message: "No route for POST /v1/nothing-here" });
  });
});

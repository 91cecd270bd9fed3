import type { MiddlewareHandler } from "hono";
import type { EdgeEnv } from "../context.ts";

export const REQUEST_ID_HEADER = "x-request-id";

// A caller's id is kept only when it is short and plain, so it is safe to log and echo.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (the caller's `x-request-id` when acceptable, else a UUID) and echoes it back. */
export function requestId(): MiddlewareHandler<EdgeEnv> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header(REQUEST_ID_HEADER);
    const id = given !== undefined && ACCEPTABLE_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
  };
}

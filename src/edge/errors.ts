import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { EdgeEnv } from "./context.ts";

/** One problem with one field of the request, e.g. `{field: "filters[0].member", message: "unknown member …"}`. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error the client should see as is: its status, a stable machine code, a human message, and optionally
 * the fields at fault or other details (merged into the error object).
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: { fields?: FieldError[] } & Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    fields?: FieldError[];
    [detail: string]: unknown;
  };
}

// Codes for errors Hono raises itself (body limits, malformed JSON, …).
const CODE_BY_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

/** The app's `onError`: every error leaves as `{error: {code, message, requestId}}`; unknown ones as a logged 500. */
export function renderError(error: Error, c: Context<EdgeEnv>): Response {
  const requestId = c.get("requestId") ?? "";
  if (error instanceof ApiError) {
    const rendered = body(error.code, error.message, requestId);
    return c.json({ error: { ...error.details, ...rendered.error } }, error.status);
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? "internal_error" : "bad_request");
    return c.json(body(code, error.message || code, requestId), status);
  }
  console.error(`[${requestId}] unhandled error on ${c.req.method} ${c.req.path}:`, error);
  return c.json(body("internal_error", "Internal error", requestId), 500);
}

/** The app's `notFound`: unknown routes get the same error shape. */
export function renderNotFound(c: Context<EdgeEnv>): Response {
  const message = `No route for ${c.req.method} ${c.req.path}`;
  return c.json(body("not_found", message, c.get("requestId") ?? ""), 404);
}

function body(code: string, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}

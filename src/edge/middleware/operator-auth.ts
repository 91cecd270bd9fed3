import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../../domain/query/stable-json.ts";
import { constantTimeEqual } from "../../domain/tenants.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError } from "../errors.ts";
import { bearerToken } from "./bearer.ts";

/**
 * Guards `/admin/*`: `Authorization: Bearer <FAIRWAY_OPERATOR_TOKEN>`, compared in constant time (over hashes,
 * so not even the length leaks). 503 when no operator token is configured, 401 otherwise.
 */
export function operatorAuth(services: EdgeServices): MiddlewareHandler<EdgeEnv> {
  let expectedHash: Promise<string> | undefined;
  return async function operatorAuthMiddleware(c, next) {
    const token = services.operatorToken;
    if (!token) {
      throw new ApiError(
        503,
        "operator_token_not_configured",
        "Admin endpoints are disabled: FAIRWAY_OPERATOR_TOKEN is not configured",
      );
    }
    expectedHash ??= sha256Hex(token);
    const presented = bearerToken(c.req.header("authorization"));
    const matches =
      presented !== undefined && constantTimeEqual(await sha256Hex(presented), await expectedHash);
    if (!matches) {
      c.header("WWW-Authenticate", 'Bearer realm="fairway-admin"');
      throw new ApiError(401, "unauthorized", "Admin endpoints need Authorization: Bearer <operator token>");
    }
    await next();
  };
}

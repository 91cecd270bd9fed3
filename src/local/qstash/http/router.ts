import { timingSafeEqual } from "node:crypto";
import type { BrokerContext, RouteRequest } from "./context.ts";
import { errorResponse, HttpError, notFound } from "./errors.ts";
import * as manage from "./manage-routes.ts";
import { batch, createSchedule, enqueue, publish } from "./publish-routes.ts";

/** Path and query exactly as the client sent them (Request#url keeps them undecoded). */
function rawPathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start < 0 ? "/" : url.slice(start);
}

function authorized(request: Request, token: string): boolean {
  const header = request.headers.get("Authorization") ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7).trim() : "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Action = "pause" | "resume";

/** Routes one `/v2/…` request (the token already checked). */
async function route(req: RouteRequest, context: BrokerContext): Promise<Response> {
  const { method, rawPath } = req;
  const path = rawPath.split("?")[0] as string;
  const afterPrefix = (prefix: string) =>
    rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : undefined;
  const parts = path.split("/").slice(2).map(decodeURIComponent);
  const [resource, id, action] = parts;

  if (method === "POST") {
    const destination = afterPrefix("/v2/publish/");
    if (destination !== undefined) return publish(req, context, destination);
    const queued = afterPrefix("/v2/enqueue/");
    if (queued !== undefined) {
      const slash = queued.indexOf("/");
      if (slash <= 0) throw notFound("expected /v2/enqueue/<queue>/<destination>");
      return enqueue(req, context, queued.slice(0, slash), queued.slice(slash + 1));
    }
    if (path === "/v2/batch") return batch(req, context);
    const scheduleTarget = afterPrefix("/v2/schedules/");
    if (scheduleTarget !== undefined && /^https?:\/\//i.test(scheduleTarget)) {
      return createSchedule(req, context, scheduleTarget);
    }
  }

  switch (resource) {
    case "keys":
      if (method === "GET" && parts.length === 1) return manage.signingKeys(context);
      break;
    case "messages":
      if (parts.length === 1 && method === "DELETE") return manage.cancelMessages(req, context);
      if (parts.length === 2 && id !== undefined) {
        if (method === "GET") return manage.getMessage(context, id);
        if (method === "DELETE") return manage.cancelMessage(context, id);
      }
      break;
    case "dlq":
      if (parts.length === 1 && method === "GET") return manage.listDlq(req, context);
      if (parts.length === 1 && method === "DELETE") return manage.deleteDlqMany(req, context);
      if (id === "retry" && method === "POST") {
        return action === undefined ? manage.retryDlqMany(req, context) : manage.retryDlq(context, action);
      }
      if (parts.length === 2 && id !== undefined) {
        if (method === "GET") return manage.getDlq(context, id);
        if (method === "DELETE") return manage.deleteDlq(context, id);
      }
      break;
    case "queues":
      if (parts.length === 1 && method === "POST") return manage.upsertQueue(req, context);
      if (parts.length === 1 && method === "GET") return manage.listQueues(context);
      if (parts.length === 2 && id !== undefined) {
        if (method === "GET") return manage.getQueue(context, id);
        if (method === "DELETE") return manage.changeQueue(context, id, "delete");
      }
      if (
        parts.length === 3 &&
        id !== undefined &&
        (action === "pause" || action === "resume") &&
        method === "POST"
      ) {
        return manage.changeQueue(context, id, action);
      }
      break;
    case "schedules":
      if (parts.length === 1 && method === "GET") return manage.listSchedules(context);
      if (parts.length === 2 && id !== undefined) {
        if (method === "GET") return manage.getSchedule(context, id);
        if (method === "DELETE") return manage.changeSchedule(context, id, "delete");
      }
      if (
        parts.length === 3 &&
        id !== undefined &&
        (action === "pause" || action === "resume") &&
        (method === "POST" || method === "PATCH")
      ) {
        return manage.changeSchedule(context, id, action as Action);
      }
      break;
  }
  throw notFound(`no route for ${method} ${path}`);
}

/** The broker's HTTP entry: bearer token, routing, and one JSON shape for every error. */
export function createRouter(context: BrokerContext) {
  return async function qstashRouter(request: Request, callerIp?: string): Promise<Response> {
    const rawPath = rawPathOf(request.url);
    try {
      if (!rawPath.startsWith("/v2/"))
        throw notFound(`no route for ${request.method} ${rawPath.split("?")[0]}`);
      if (!authorized(request, context.token))
        throw new HttpError(401, "Unauthorized: missing or wrong bearer token");
      const queryAt = rawPath.indexOf("?");
      return await route(
        {
          request,
          method: request.method,
          rawPath,
          query: new URLSearchParams(queryAt < 0 ? "" : rawPath.slice(queryAt + 1)),
          callerIp,
        },
        context,
      );
    } catch (error) {
      if (error instanceof HttpError) return errorResponse(error);
      if (error instanceof URIError) return errorResponse(new HttpError(400, `path: ${error.message}`));
      context.log(
        `qstash: ${request.method} ${rawPath.split("?")[0]} failed: ${(error as Error).stack ?? error}`,
      );
      return errorResponse(new HttpError(503, `broker storage unavailable: ${(error as Error).message}`));
    }
  };
}

import { parseCron } from "../protocol/cron.ts";
import { newMessageId, newScheduleId } from "../protocol/ids.ts";
import { draftFields } from "../store/message-record.ts";
import type { BrokerContext, RouteRequest } from "./context.ts";
import { badRequest, HttpError, json } from "./errors.ts";
import {
  type PublishRequest,
  readDestination,
  readPublishRequest,
  readQueueName,
} from "./publish-request.ts";

async function readBody(route: RouteRequest, context: BrokerContext): Promise<Uint8Array> {
  const declared = Number(route.request.headers.get("Content-Length") ?? 0);
  if (declared > context.maxBodyBytes) {
    throw new HttpError(413, `body: larger than ${context.maxBodyBytes} bytes`);
  }
  const body = new Uint8Array(await route.request.arrayBuffer());
  if (body.length > context.maxBodyBytes)
    throw new HttpError(413, `body: larger than ${context.maxBodyBytes} bytes`);
  return body;
}

/** Stores one message (the answer goes out only after Redis has it) and wakes the dispatcher. */
async function accept(context: BrokerContext, request: PublishRequest) {
  const result = await context.store.publish(
    newMessageId(),
    request.draft,
    {
      delayMs: request.delayMs === undefined ? undefined : request.delayMs * context.timeScale,
      notBeforeMs: request.notBeforeMs,
      timeScale: context.timeScale,
    },
    request.dedupKey,
    context.brokerId,
  );
  if (!result.stored) return { messageId: result.messageId, deduplicated: true };
  context.dispatcher.notifyDueIn(result.dueAt - result.now);
  return { messageId: result.messageId };
}

/** `POST /v2/publish/<destination>`: the destination is the raw rest of the path, query included. */
export async function publish(
  route: RouteRequest,
  context: BrokerContext,
  destination: string,
): Promise<Response> {
  if (route.request.headers.has("Upstash-Cron")) return createSchedule(route, context, destination);
  const body = await readBody(route, context);
  const request = readPublishRequest(destination, route.request.headers, body, { callerIp: route.callerIp });
  const answer = await accept(context, request);
  return json(answer, answer.deduplicated ? 202 : 201);
}

/** `POST /v2/enqueue/<queue>/<destination>`: FIFO in the queue, created on first use. */
export async function enqueue(
  route: RouteRequest,
  context: BrokerContext,
  queue: string,
  destination: string,
): Promise<Response> {
  const body = await readBody(route, context);
  const request = readPublishRequest(destination, route.request.headers, body, {
    queue: decodeURIComponent(queue),
    callerIp: route.callerIp,
  });
  const answer = await accept(context, request);
  return json(answer, answer.deduplicated ? 202 : 201);
}

interface BatchEntry {
  destination?: unknown;
  headers?: unknown;
  body?: unknown;
  queue?: unknown;
}

/** `POST /v2/batch`: every entry is validated before any is stored; answers in the same order. */
export async function batch(route: RouteRequest, context: BrokerContext): Promise<Response> {
  const text = new TextDecoder().decode(await readBody(route, context));
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch {
    throw badRequest("body: not JSON (expected an array of {destination, headers, body, queue})");
  }
  if (!Array.isArray(entries) || entries.length === 0) {
    throw badRequest("body: expected a non-empty array of {destination, headers, body, queue}");
  }
  const requests = entries.map((raw: BatchEntry, index) => {
    const at = `[${index}]`;
    if (typeof raw !== "object" || raw === null) throw badRequest(`${at}: expected an object`);
    if (typeof raw.destination !== "string") throw badRequest(`${at}.destination: expected a URL string`);
    if (raw.body !== undefined && raw.body !== null && typeof raw.body !== "string") {
      throw badRequest(`${at}.body: expected a string`);
    }
    if (raw.queue !== undefined && typeof raw.queue !== "string")
      throw badRequest(`${at}.queue: expected a string`);
    const headers = new Headers();
    if (raw.headers !== undefined) {
      if (typeof raw.headers !== "object" || raw.headers === null || Array.isArray(raw.headers)) {
        throw badRequest(`${at}.headers: expected an object of header names to strings`);
      }
      for (const [name, value] of Object.entries(raw.headers)) {
        if (typeof value !== "string") throw badRequest(`${at}.headers.${name}: expected a string`);
        headers.set(name, value);
      }
    }
    try {
      return readPublishRequest(raw.destination, headers, new TextEncoder().encode(raw.body ?? ""), {
        queue: raw.queue,
        callerIp: route.callerIp,
      });
    } catch (error) {
      if (error instanceof HttpError) throw badRequest(`${at}: ${error.message}`);
      throw error;
    }
  });
  const answers = await Promise.all(requests.map((request) => accept(context, request)));
  return json(answers);
}

/** `POST /v2/schedules/<destination>` (or a publish with `Upstash-Cron`): creates or replaces a schedule. */
export async function createSchedule(
  route: RouteRequest,
  context: BrokerContext,
  destination: string,
): Promise<Response> {
  const headers = route.request.headers;
  const cronText = headers.get("Upstash-Cron");
  if (cronText === null) throw badRequest("Upstash-Cron: required to create a schedule");
  const cron = parseCron(cronText);
  if (!cron.ok) throw badRequest(`Upstash-Cron: ${cron.error}`);
  const body = await readBody(route, context);
  const queue = headers.get("Upstash-Queue-Name");
  const request = readPublishRequest(readDestination(destination), headers, body, {
    queue: queue === null ? undefined : readQueueName(queue),
    callerIp: route.callerIp,
  });
  const scheduleId = headers.get("Upstash-Schedule-Id") ?? newScheduleId();
  if (!/^[\w.-]{1,200}$/.test(scheduleId)) {
    throw badRequest(`Upstash-Schedule-Id: "${scheduleId}" may only hold letters, digits, "-", "_" and "."`);
  }
  const firstFireAt = cron.schedule.nextAfter(Date.now());
  if (firstFireAt === undefined) throw badRequest("Upstash-Cron: never fires");
  const rawDelayMs = request.delayMs ?? 0;
  await context.store.saveSchedule(
    scheduleId,
    firstFireAt,
    ["cron", cronText, "delayMs", Math.round(rawDelayMs * context.timeScale), "rawDelayMs", rawDelayMs],
    draftFields(request.draft),
  );
  context.dispatcher.notifyDueIn(firstFireAt - Date.now());
  return json({ scheduleId }, 201);
}

import { parseCron } from "../protocol/cron.ts";
import { newMessageId } from "../protocol/ids.ts";
import type { DlqEntry, StoredMessage } from "../store/message-record.ts";
import type { BrokerContext, RouteRequest } from "./context.ts";
import { badRequest, json, notFound } from "./errors.ts";
import { readQueueName } from "./publish-request.ts";
import { renderDlqEntry, renderMessage, renderQueue, renderSchedule } from "./render.ts";

const PAGE = 100;

function readCount(query: URLSearchParams): number {
  const raw = query.get("count");
  if (raw === null) return PAGE;
  const count = Number(raw);
  if (!Number.isInteger(count) || count <= 0)
    throw badRequest(`count: "${raw}" is not a positive whole number`);
  return Math.min(count, PAGE);
}

/** Filters shared by bulk message and DLQ operations; several values of one filter are OR-ed. */
const FILTERS: Record<string, (message: StoredMessage) => string | undefined> = {
  url: (m) => m.url,
  label: (m) => m.label,
  flowControlKey: (m) => m.flowControl?.key,
  queueName: (m) => m.queue,
  scheduleId: (m) => m.scheduleId,
  messageId: (m) => m.id,
  callerIp: (m) => m.callerIp,
};

function matcher(query: URLSearchParams): (message: StoredMessage) => boolean {
  const checks: ((message: StoredMessage) => boolean)[] = [];
  for (const [name, read] of Object.entries(FILTERS)) {
    const wanted = query.getAll(name);
    if (wanted.length > 0) checks.push((message) => wanted.includes(read(message) ?? ""));
  }
  const status = query.get("responseStatus");
  if (status !== null) checks.push((message) => String((message as DlqEntry).responseStatus) === status);
  const host = query.getAll("host");
  if (host.length > 0) checks.push((message) => host.includes(new URL(message.url).host));
  return (message) => checks.every((check) => check(message));
}

// Messages

export async function getMessage(context: BrokerContext, id: string): Promise<Response> {
  const message = await context.store.getMessage(id);
  if (message === undefined) throw notFound(`message ${id} not found`);
  return json(renderMessage(message));
}

export async function cancelMessage(context: BrokerContext, id: string): Promise<Response> {
  const cancelled = await context.store.cancel([id]);
  if (cancelled === 0) throw notFound(`message ${id} not found`);
  return json({ cancelled });
}

/** `DELETE /v2/messages?messageIds=…` or with filters (none = all). */
export async function cancelMessages(route: RouteRequest, context: BrokerContext): Promise<Response> {
  const ids = route.query.getAll("messageIds");
  if (ids.length > 0) return json({ cancelled: await context.store.cancel(ids) });
  const matches = matcher(route.query);
  const live = await context.store.getMessages(await context.store.liveMessageIds());
  return json({ cancelled: await context.store.cancel(live.filter(matches).map((message) => message.id)) });
}

// DLQ

/** Walks the DLQ oldest first from the cursor (a position), collecting up to `count` matching entries. */
async function scanDlq(
  route: RouteRequest,
  context: BrokerContext,
): Promise<{ entries: DlqEntry[]; cursor?: string }> {
  const count = readCount(route.query);
  const dlqIds = route.query.getAll("dlqIds");
  if (dlqIds.length > 0) return { entries: await context.store.getDlqEntries(dlqIds) };
  const matches = matcher(route.query);
  let position = Number(route.query.get("cursor") ?? 0);
  if (!Number.isInteger(position) || position < 0) throw badRequest("cursor: not one this broker gave");
  const entries: DlqEntry[] = [];
  while (entries.length < count) {
    const ids = await context.store.dlqIds(position, PAGE);
    if (ids.length === 0) return { entries };
    for (const entry of await context.store.getDlqEntries(ids)) {
      position++;
      if (matches(entry)) entries.push(entry);
      if (entries.length === count) break;
    }
    if (ids.length < PAGE && entries.length < count) return { entries };
  }
  const rest = await context.store.dlqIds(position, 1);
  return { entries, cursor: rest.length > 0 ? String(position) : undefined };
}

export async function listDlq(route: RouteRequest, context: BrokerContext): Promise<Response> {
  const { entries, cursor } = await scanDlq(route, context);
  return json({ messages: entries.map(renderDlqEntry), ...(cursor === undefined ? {} : { cursor }) });
}

export async function getDlq(context: BrokerContext, dlqId: string): Promise<Response> {
  const [entry] = await context.store.getDlqEntries([dlqId]);
  if (entry === undefined) throw notFound(`DLQ message ${dlqId} not found`);
  return json(renderDlqEntry(entry));
}

export async function deleteDlq(context: BrokerContext, dlqId: string): Promise<Response> {
  if ((await context.store.deleteDlq([dlqId])) === 0) throw notFound(`DLQ message ${dlqId} not found`);
  return json({ deleted: 1 });
}

/** `DELETE /v2/dlq?dlqIds=…` or with filters; `count` at a time, `cursor` says there is more. */
export async function deleteDlqMany(route: RouteRequest, context: BrokerContext): Promise<Response> {
  const { entries, cursor } = await scanDlq(route, context);
  const deleted = await context.store.deleteDlq(entries.map((entry) => entry.dlqId));
  // Deleting shifted the positions after the cursor back by what was deleted.
  const next = cursor === undefined ? undefined : String(Math.max(0, Number(cursor) - deleted));
  return json({ deleted, ...(next === undefined ? {} : { cursor: next }) });
}

export async function retryDlq(context: BrokerContext, dlqId: string): Promise<Response> {
  const [messageId] = await context.store.retryDlq([{ dlqId, messageId: newMessageId() }]);
  if (messageId === undefined) throw notFound(`DLQ message ${dlqId} not found`);
  context.dispatcher.kick();
  return json({ messageId });
}

export async function retryDlqMany(route: RouteRequest, context: BrokerContext): Promise<Response> {
  const { entries, cursor } = await scanDlq(route, context);
  const ids = await context.store.retryDlq(
    entries.map((entry) => ({ dlqId: entry.dlqId, messageId: newMessageId() })),
  );
  context.dispatcher.kick();
  const retried = ids.filter((id) => id !== undefined).length;
  const next = cursor === undefined ? undefined : String(Math.max(0, Number(cursor) - retried));
  return json({
    responses: ids.filter((id) => id !== undefined).map((messageId) => ({ messageId })),
    ...(next === undefined ? {} : { cursor: next }),
  });
}

// Queues

export async function upsertQueue(route: RouteRequest, context: BrokerContext): Promise<Response> {
  let body: { queueName?: unknown; parallelism?: unknown; paused?: unknown };
  try {
    body = (await route.request.json()) as typeof body;
  } catch {
    throw badRequest("body: expected JSON {queueName, parallelism, paused}");
  }
  if (typeof body !== "object" || body === null)
    throw badRequest("body: expected JSON {queueName, parallelism, paused}");
  if (typeof body.queueName !== "string") throw badRequest("queueName: required string");
  const parallelism = body.parallelism ?? 1;
  if (typeof parallelism !== "number" || !Number.isInteger(parallelism) || parallelism < 1) {
    throw badRequest("parallelism: expected a whole number of at least 1");
  }
  if (body.paused !== undefined && typeof body.paused !== "boolean")
    throw badRequest("paused: expected true or false");
  await context.store.updateQueue(readQueueName(body.queueName), "upsert", parallelism, body.paused === true);
  context.dispatcher.kick();
  return json({});
}

export async function getQueue(context: BrokerContext, name: string): Promise<Response> {
  const queue = await context.store.getQueue(name);
  if (queue === undefined) throw notFound(`queue ${name} not found`);
  return json(renderQueue(queue));
}

export async function listQueues(context: BrokerContext): Promise<Response> {
  return json((await context.store.listQueues()).map(renderQueue));
}

export async function changeQueue(
  context: BrokerContext,
  name: string,
  action: "pause" | "resume" | "delete",
): Promise<Response> {
  if (!(await context.store.updateQueue(name, action))) throw notFound(`queue ${name} not found`);
  if (action === "resume") context.dispatcher.kick();
  return json({});
}

// Schedules

export async function getSchedule(context: BrokerContext, id: string): Promise<Response> {
  const schedule = await context.store.getSchedule(id);
  if (schedule === undefined) throw notFound(`schedule ${id} not found`);
  return json(renderSchedule(schedule));
}

export async function listSchedules(context: BrokerContext): Promise<Response> {
  return json((await context.store.listSchedules()).map(renderSchedule));
}

export async function changeSchedule(
  context: BrokerContext,
  id: string,
  action: "pause" | "resume" | "delete",
): Promise<Response> {
  let next = -1;
  if (action === "resume") {
    const schedule = await context.store.getSchedule(id);
    if (schedule === undefined) throw notFound(`schedule ${id} not found`);
    const cron = parseCron(String(schedule.settings.get("cron") ?? ""));
    next = cron.ok ? (cron.schedule.nextAfter(Date.now()) ?? -1) : -1;
  }
  if (!(await context.store.updateSchedule(id, action, next))) throw notFound(`schedule ${id} not found`);
  if (next >= 0) context.dispatcher.notifyDueIn(next - Date.now());
  return json({});
}

export function signingKeys(context: BrokerContext): Response {
  return json({ current: context.currentSigningKey, next: context.nextSigningKey });
}

import type { QueueRecord, ScheduleRecord } from "../store/broker-store.ts";
import {
  type DlqEntry,
  hashReply,
  type MessageDraft,
  readMessage,
  type StoredMessage,
} from "../store/message-record.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** QStash shows a body as `body` when it is UTF-8 text, else as `bodyBase64`. */
function bodyFields(bytes: Uint8Array | undefined, name = "body"): Record<string, string> {
  if (bytes === undefined || bytes.length === 0) return {};
  try {
    return { [name]: strictUtf8.decode(bytes) };
  } catch {
    return { [`${name}Base64`]: Buffer.from(bytes).toString("base64") };
  }
}

function headerLists(headers: Record<string, string>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
}

function draftFields(draft: MessageDraft) {
  const flow = draft.flowControl;
  return {
    url: draft.url,
    method: draft.method,
    header: headerLists(draft.headers),
    ...bodyFields(draft.body),
    maxRetries: draft.retries,
    ...(draft.retryDelay === undefined ? {} : { retryDelayExpression: draft.retryDelay }),
    ...(draft.callback === undefined ? {} : { callback: draft.callback }),
    ...(draft.failureCallback === undefined ? {} : { failureCallback: draft.failureCallback }),
    ...(draft.queue === undefined ? {} : { queueName: draft.queue }),
    ...(draft.callerIp === undefined ? {} : { callerIp: draft.callerIp }),
    ...(flow === undefined
      ? {}
      : {
          flowControlKey: flow.key,
          ...(flow.parallelism === undefined ? {} : { parallelism: flow.parallelism }),
          ...(flow.rate === undefined ? {} : { rate: flow.rate, period: flow.periodMs / 1000 }),
        }),
    ...(draft.label === undefined ? {} : { label: draft.label, labels: draft.label.split(",") }),
    ...(draft.timeoutMs === undefined ? {} : { timeout: draft.timeoutMs / 1000 }),
  };
}

/** A message as `GET /v2/messages/<id>` shows it. */
export function renderMessage(message: StoredMessage) {
  return {
    messageId: message.id,
    ...draftFields(message),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    retried: message.retried,
    state: message.state,
    ...(message.scheduleId === undefined ? {} : { scheduleId: message.scheduleId }),
  };
}

/** A DLQ entry as `GET /v2/dlq` shows it. */
export function renderDlqEntry(entry: DlqEntry) {
  return {
    ...renderMessage(entry),
    dlqId: entry.dlqId,
    ...(entry.responseStatus === undefined ? {} : { responseStatus: entry.responseStatus }),
    ...(entry.responseHeader === undefined ? {} : { responseHeader: entry.responseHeader }),
    ...bodyFields(entry.responseBody, "responseBody"),
    ...(entry.lastError === undefined ? {} : { error: entry.lastError }),
  };
}

export function renderQueue(queue: QueueRecord) {
  return { ...queue };
}

/** A schedule as `GET /v2/schedules/<id>` shows it. */
export function renderSchedule(schedule: ScheduleRecord) {
  const setting = (name: string) => schedule.settings.get(name)?.toString();
  const template = readMessage(schedule.id, hashReply(flatten(schedule.template)));
  const delayMs = Number(setting("rawDelayMs") ?? 0);
  const next = Number(setting("next") ?? -1);
  const last = setting("last");
  const fields = template === undefined ? {} : draftFields(template);
  const { url, maxRetries, ...rest } = fields as { url?: string; maxRetries?: number };
  return {
    scheduleId: schedule.id,
    cron: setting("cron") ?? "",
    createdAt: Number(setting("createdAt") ?? 0),
    destination: url ?? "",
    retries: maxRetries ?? 3,
    ...rest,
    ...(delayMs > 0 ? { delay: delayMs / 1000 } : {}),
    isPaused: setting("paused") === "1",
    ...(next >= 0 && setting("paused") !== "1" ? { nextScheduleTime: next } : {}),
    ...(last === undefined ? {} : { lastScheduleTime: Number(last) }),
  };
}

function flatten(hash: Map<string, Buffer>): Buffer[] {
  const flat: Buffer[] = [];
  for (const [name, value] of hash) flat.push(Buffer.from(name), value);
  return flat;
}

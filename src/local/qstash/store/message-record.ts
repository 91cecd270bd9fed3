import type { RespReply } from "../../resp/index.ts";

/** How a callback message is sent (`Upstash-Callback-*` / `Upstash-Failure-Callback-*` headers). */
export interface CallbackOptions {
  retries?: number;
  timeoutMs?: number;
  method?: string;
  /** Headers delivered with the callback (`Upstash-Callback-Forward-*`). */
  headers?: Record<string, string>;
}

/** Flow-control settings a message was published with. */
export interface FlowControlSettings {
  key: string;
  parallelism?: number;
  rate?: number;
  periodMs: number;
}

/** Everything needed to deliver a message, as accepted from a publisher (or a schedule, or a callback). */
export interface MessageDraft {
  url: string;
  method: string;
  body: Uint8Array;
  /** Headers delivered as they are: Content-Type and the forwarded ones, prefix removed. */
  headers: Record<string, string>;
  retries: number;
  retryDelay?: string;
  callback?: string;
  failureCallback?: string;
  callbackOptions?: CallbackOptions;
  failureCallbackOptions?: CallbackOptions;
  timeoutMs?: number;
  queue?: string;
  flowControl?: FlowControlSettings;
  label?: string;
  callerIp?: string;
  /** Set on messages that carry a callback, so they never produce callbacks of their own. */
  isCallback?: boolean;
}

/** A message as stored in Redis, with its delivery state. */
export interface StoredMessage extends MessageDraft {
  id: string;
  createdAt: number;
  /** When the message is (or was) due, epoch ms. */
  notBefore: number;
  /** Attempts that failed so far; the next attempt is delivered with `Upstash-Retried: retried`. */
  retried: number;
  state: string;
  scheduleId?: string;
  lastStatus?: number;
  lastError?: string;
}

/** A message in the DLQ: the stored message plus the last answer it got. */
export interface DlqEntry extends StoredMessage {
  dlqId: string;
  failedAt: number;
  responseStatus?: number;
  responseHeader?: Record<string, string[]>;
  responseBody?: Uint8Array;
}

/** The Redis hash fields of a draft, as a flat field/value list. */
export function draftFields(draft: MessageDraft): (string | Uint8Array)[] {
  const fields: (string | Uint8Array)[] = [
    "url",
    draft.url,
    "method",
    draft.method,
    "body",
    draft.body,
    "headers",
    JSON.stringify(draft.headers),
    "retries",
    String(draft.retries),
  ];
  const optional: [string, string | number | undefined][] = [
    ["retryDelay", draft.retryDelay],
    ["callback", draft.callback],
    ["failureCallback", draft.failureCallback],
    ["callbackOptions", draft.callbackOptions && JSON.stringify(draft.callbackOptions)],
    ["failureCallbackOptions", draft.failureCallbackOptions && JSON.stringify(draft.failureCallbackOptions)],
    ["timeout", draft.timeoutMs],
    ["queue", draft.queue],
    ["fcKey", draft.flowControl?.key],
    ["fcParallelism", draft.flowControl?.parallelism],
    ["fcRate", draft.flowControl?.rate],
    ["fcPeriod", draft.flowControl?.rate === undefined ? undefined : draft.flowControl.periodMs],
    ["label", draft.label],
    ["callerIp", draft.callerIp],
    ["isCallback", draft.isCallback ? "1" : undefined],
  ];
  for (const [name, value] of optional) {
    if (value !== undefined) fields.push(name, String(value));
  }
  return fields;
}

/** A flat HGETALL reply as a map of field name to raw bytes. */
export function hashReply(reply: RespReply): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    map.set(String(reply[i]), reply[i + 1] as Buffer);
  }
  return map;
}

function text(hash: Map<string, Buffer>, name: string): string | undefined {
  const value = hash.get(name);
  return value === undefined || value.length === 0 ? undefined : value.toString();
}

function int(hash: Map<string, Buffer>, name: string): number | undefined {
  const value = text(hash, name);
  return value === undefined ? undefined : Number(value);
}

function json<T>(hash: Map<string, Buffer>, name: string): T | undefined {
  const value = text(hash, name);
  return value === undefined ? undefined : (JSON.parse(value) as T);
}

/** Reads a message hash back; undefined when the hash is empty (no such message). */
export function readMessage(id: string, hash: Map<string, Buffer>): StoredMessage | undefined {
  const url = text(hash, "url");
  if (url === undefined) return undefined;
  const fcKey = text(hash, "fcKey");
  return {
    id,
    url,
    method: text(hash, "method") ?? "POST",
    body: hash.get("body") ?? Buffer.alloc(0),
    headers: json<Record<string, string>>(hash, "headers") ?? {},
    retries: int(hash, "retries") ?? 3,
    retryDelay: text(hash, "retryDelay"),
    callback: text(hash, "callback"),
    failureCallback: text(hash, "failureCallback"),
    callbackOptions: json<CallbackOptions>(hash, "callbackOptions"),
    failureCallbackOptions: json<CallbackOptions>(hash, "failureCallbackOptions"),
    timeoutMs: int(hash, "timeout"),
    queue: text(hash, "queue"),
    flowControl:
      fcKey === undefined
        ? undefined
        : {
            key: fcKey,
            parallelism: int(hash, "fcParallelism"),
            rate: int(hash, "fcRate"),
            periodMs: int(hash, "fcPeriod") ?? 1000,
          },
    label: text(hash, "label"),
    callerIp: text(hash, "callerIp"),
    isCallback: text(hash, "isCallback") === "1",
    createdAt: int(hash, "createdAt") ?? 0,
    notBefore: int(hash, "notBefore") ?? 0,
    retried: int(hash, "retried") ?? 0,
    state: text(hash, "state") ?? "CREATED",
    scheduleId: text(hash, "scheduleId"),
    lastStatus: int(hash, "lastStatus"),
    lastError: text(hash, "lastError"),
  };
}

/** Reads a DLQ entry back; undefined when there is none. */
export function readDlqEntry(hash: Map<string, Buffer>): DlqEntry | undefined {
  const dlqId = text(hash, "dlqId");
  const id = text(hash, "messageId");
  if (dlqId === undefined || id === undefined) return undefined;
  const message = readMessage(id, hash);
  if (message === undefined) return undefined;
  return {
    ...message,
    dlqId,
    failedAt: int(hash, "failedAt") ?? 0,
    responseStatus: int(hash, "responseStatus"),
    responseHeader: json<Record<string, string[]>>(hash, "responseHeader"),
    responseBody: hash.get("responseBody"),
  };
}

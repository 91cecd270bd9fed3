import { createHash } from "node:crypto";
import { parseDuration } from "../protocol/duration.ts";
import { parseFlowControlValue } from "../protocol/flow-control-value.ts";
import { parseRetryDelay } from "../protocol/retry-delay.ts";
import type { CallbackOptions, MessageDraft } from "../store/message-record.ts";
import { badRequest } from "./errors.ts";

/** A publish request read and validated: the message, when it is due, and how it is deduplicated. */
export interface PublishRequest {
  draft: MessageDraft;
  /** Raw (unscaled) delay from `Upstash-Delay`. */
  delayMs?: number;
  /** Epoch ms from `Upstash-Not-Before` (wins over the delay). */
  notBeforeMs?: number;
  /** Redis dedup key: `id:<Upstash-Deduplication-Id>` or `content:<sha256>`. */
  dedupKey?: string;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
const MAX_RETRIES = 100;
const FORWARD_PREFIX = "upstash-forward-";
const CALLBACK_FORWARD_PREFIX = "upstash-callback-forward-";
const FAILURE_CALLBACK_FORWARD_PREFIX = "upstash-failure-callback-forward-";

/** `my-header` → `My-Header`, so stored and listed headers read as they were written. */
function canonicalName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Reads a destination: an absolute http(s) URL (URL groups and APIs are not served here). */
export function readDestination(raw: string, field = "destination"): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`${field}: "${raw}" is not an absolute http(s) URL (URL groups are not supported)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw badRequest(`${field}: "${raw}" must use http or https`);
  }
  return raw;
}

function readDuration(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw badRequest(`${name}: "${value}" is not a duration such as 10s, 5m or 1d10h30m`);
  return ms;
}

function readCount(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null) return undefined;
  const count = Number(value.trim());
  if (value.trim() === "" || !Number.isInteger(count) || count < 0 || count > MAX_RETRIES) {
    throw badRequest(`${name}: "${value}" is not a whole number from 0 to ${MAX_RETRIES}`);
  }
  return count;
}

function readMethod(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  if (value === null) return undefined;
  const method = value.trim().toUpperCase();
  if (!METHODS.has(method)) throw badRequest(`${name}: "${value}" is not one of ${[...METHODS].join(", ")}`);
  return method;
}

function readUrlHeader(headers: Headers, name: string): string | undefined {
  const value = headers.get(name);
  return value === null ? undefined : readDestination(value, name);
}

function readCallbackOptions(
  headers: Headers,
  prefix: string,
  forwardPrefix: string,
): CallbackOptions | undefined {
  const options: CallbackOptions = {};
  const retries = readCount(headers, `${prefix}-Retries`);
  const timeoutMs = readDuration(headers, `${prefix}-Timeout`);
  const method = readMethod(headers, `${prefix}-Method`);
  if (retries !== undefined) options.retries = retries;
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  if (method !== undefined) options.method = method;
  headers.forEach((value, name) => {
    if (name.startsWith(forwardPrefix)) {
      options.headers ??= {};
      options.headers[canonicalName(name.slice(forwardPrefix.length))] = value;
    }
  });
  return Object.keys(options).length === 0 ? undefined : options;
}

/**
 * Reads the `Upstash-*` headers of a publish (or enqueue, batch entry, schedule) into a message.
 * Every malformed header is a 400 naming it.
 */
export function readPublishRequest(
  destination: string,
  headers: Headers,
  body: Uint8Array,
  context: { queue?: string; callerIp?: string },
): PublishRequest {
  const delivered: Record<string, string> = {};
  const contentType = headers.get("Content-Type");
  if (contentType !== null) delivered["Content-Type"] = contentType;
  headers.forEach((value, name) => {
    if (name.startsWith(FORWARD_PREFIX) && name.length > FORWARD_PREFIX.length) {
      delivered[canonicalName(name.slice(FORWARD_PREFIX.length))] = value;
    }
  });

  const draft: MessageDraft = {
    url: readDestination(destination),
    method: readMethod(headers, "Upstash-Method") ?? "POST",
    body,
    headers: delivered,
    retries: readCount(headers, "Upstash-Retries") ?? 3,
    callerIp: context.callerIp,
  };
  if (context.queue !== undefined) draft.queue = readQueueName(context.queue);

  const retryDelay = headers.get("Upstash-Retry-Delay");
  if (retryDelay !== null) {
    const parsed = parseRetryDelay(retryDelay);
    if (!parsed.ok) throw badRequest(`Upstash-Retry-Delay: ${parsed.error}`);
    draft.retryDelay = retryDelay;
  }
  draft.callback = readUrlHeader(headers, "Upstash-Callback");
  draft.failureCallback = readUrlHeader(headers, "Upstash-Failure-Callback");
  if (draft.callback !== undefined) {
    draft.callbackOptions = readCallbackOptions(headers, "Upstash-Callback", CALLBACK_FORWARD_PREFIX);
  }
  if (draft.failureCallback !== undefined) {
    draft.failureCallbackOptions = readCallbackOptions(
      headers,
      "Upstash-Failure-Callback",
      FAILURE_CALLBACK_FORWARD_PREFIX,
    );
  }
  const timeoutMs = readDuration(headers, "Upstash-Timeout");
  if (timeoutMs !== undefined) {
    if (timeoutMs <= 0) throw badRequest("Upstash-Timeout: must be longer than 0s");
    draft.timeoutMs = timeoutMs;
  }
  const fcKey = headers.get("Upstash-Flow-Control-Key");
  const fcValue = headers.get("Upstash-Flow-Control-Value");
  if (fcValue !== null && fcKey === null) {
    throw badRequest("Upstash-Flow-Control-Value: needs Upstash-Flow-Control-Key");
  }
  if (fcKey !== null) {
    if (fcKey.trim() === "") throw badRequest("Upstash-Flow-Control-Key: must not be empty");
    const parsed = fcValue === null ? undefined : parseFlowControlValue(fcValue);
    if (parsed !== undefined && !parsed.ok) throw badRequest(`Upstash-Flow-Control-Value: ${parsed.error}`);
    draft.flowControl = { key: fcKey, periodMs: 1000, ...parsed?.limits };
  }
  const label = headers.get("Upstash-Label");
  if (label !== null) draft.label = label;

  const request: PublishRequest = { draft, delayMs: readDuration(headers, "Upstash-Delay") };
  const notBefore = headers.get("Upstash-Not-Before");
  if (notBefore !== null) {
    const seconds = Number(notBefore.trim());
    if (notBefore.trim() === "" || !Number.isInteger(seconds) || seconds < 0) {
      throw badRequest(`Upstash-Not-Before: "${notBefore}" is not a unix time in seconds`);
    }
    request.notBeforeMs = seconds * 1000;
  }

  const dedupId = headers.get("Upstash-Deduplication-Id");
  const contentDedup = headers.get("Upstash-Content-Based-Deduplication");
  if (contentDedup !== null && !["true", "false"].includes(contentDedup.toLowerCase())) {
    throw badRequest(`Upstash-Content-Based-Deduplication: "${contentDedup}" is not true or false`);
  }
  if (dedupId !== null) {
    if (dedupId === "") throw badRequest("Upstash-Deduplication-Id: must not be empty");
    request.dedupKey = `id:${dedupId}`;
  } else if (contentDedup?.toLowerCase() === "true") {
    request.dedupKey = `content:${contentHash(draft)}`;
  }
  return request;
}

/** Queue names: letters, digits and `-_.`, as QStash allows. */
export function readQueueName(name: string): string {
  if (!/^[\w.-]{1,100}$/.test(name)) {
    throw badRequest(`queueName: "${name}" may only hold letters, digits, "-", "_" and "."`);
  }
  return name;
}

/** Same destination, method, headers and body → same hash (what content-based dedup compares). */
function contentHash(draft: MessageDraft): string {
  const hash = createHash("sha256");
  hash.update(`${draft.method} ${draft.url}\n`);
  for (const name of Object.keys(draft.headers).sort()) hash.update(`${name}: ${draft.headers[name]}\n`);
  hash.update(draft.body);
  return hash.digest("hex");
}

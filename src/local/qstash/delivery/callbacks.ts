import type { AttemptResponse } from "../store/broker-store.ts";
import type { CallbackOptions, MessageDraft, StoredMessage } from "../store/message-record.ts";

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * The JSON body QStash posts to a callback or failure-callback URL: the destination's answer
 * (body base64-encoded) and a description of the message that produced it.
 */
export function callbackBody(
  message: StoredMessage,
  response: AttemptResponse,
  extra: { dlqId?: string } = {},
): string {
  const sourceHeader: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(message.headers)) sourceHeader[name] = [value];
  return JSON.stringify({
    status: response.status ?? 0,
    header: response.headers,
    body: base64(response.body),
    ...(response.error === undefined ? {} : { error: response.error }),
    retried: message.retried,
    maxRetries: message.retries,
    ...(extra.dlqId === undefined ? {} : { dlqId: extra.dlqId }),
    sourceMessageId: message.id,
    url: message.url,
    method: message.method,
    sourceHeader,
    sourceBody: base64(message.body),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    ...(message.scheduleId === undefined ? {} : { scheduleId: message.scheduleId }),
    ...(message.queue === undefined ? {} : { queueName: message.queue }),
    ...(message.callerIp === undefined ? {} : { callerIP: message.callerIp }),
  });
}

/** A callback is itself a signed message with its own retries, delivered like any other. */
export function callbackDraft(
  url: string,
  options: CallbackOptions | undefined,
  body: string,
  callerIp: string | undefined,
): MessageDraft {
  return {
    url,
    method: options?.method ?? "POST",
    body: new TextEncoder().encode(body),
    headers: { ...options?.headers, "Content-Type": "application/json" },
    retries: options?.retries ?? 3,
    timeoutMs: options?.timeoutMs,
    callerIp,
    isCallback: true,
  };
}

import type { AttemptResponse } from "../store/broker-store.ts";
import type { StoredMessage } from "../store/message-record.ts";
import type { DeliverySigner } from "./signature.ts";

/** One attempt's result: the answer, plus what the destination asked about retrying. */
export interface AttemptResult extends AttemptResponse {
  /** `489` with `Upstash-NonRetryable-Error: true`: straight to the DLQ. */
  nonRetryable: boolean;
  /** The destination's `Retry-After`, raw. */
  retryAfter: string | null;
}

const BODYLESS_METHODS = new Set(["GET", "HEAD"]);

/** Keeps callback bodies and DLQ entries bounded whatever a destination answers. */
const MAX_RESPONSE_BYTES = 1 << 20;

/** The headers one attempt carries: the message's own, then QStash's. */
export function deliveryHeaders(message: StoredMessage, signature: string): Headers {
  const headers = new Headers(message.headers);
  headers.set("User-Agent", "Upstash-QStash");
  headers.set("Upstash-Message-Id", message.id);
  headers.set("Upstash-Retried", String(message.retried));
  headers.set("Upstash-Signature", signature);
  if (message.scheduleId !== undefined) headers.set("Upstash-Schedule-Id", message.scheduleId);
  if (message.callerIp !== undefined) headers.set("Upstash-Caller-Ip", message.callerIp);
  return headers;
}

function headerRecord(headers: Headers): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  headers.forEach((value, name) => {
    const canonical = name.replace(
      /(^|-)([a-z])/g,
      (_, dash: string, letter: string) => dash + letter.toUpperCase(),
    );
    const values = record[canonical] ?? [];
    values.push(value);
    record[canonical] = values;
  });
  return record;
}

/**
 * Delivers a message once: same method, exact body bytes, a fresh signature for the exact URL,
 * aborted after the per-attempt timeout. Network failures and timeouts come back as a result
 * without status, never as an exception.
 */
export async function attemptDelivery(
  message: StoredMessage,
  signer: DeliverySigner,
  timeoutMs: number,
): Promise<AttemptResult> {
  const body = BODYLESS_METHODS.has(message.method) ? new Uint8Array(0) : message.body;
  try {
    const signature = signer.sign(message.url, body);
    const response = await fetch(message.url, {
      method: message.method,
      headers: deliveryHeaders(message, signature),
      body: body.length === 0 && BODYLESS_METHODS.has(message.method) ? undefined : body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return {
      status: response.status,
      headers: headerRecord(response.headers),
      body: bytes.length > MAX_RESPONSE_BYTES ? bytes.subarray(0, MAX_RESPONSE_BYTES) : bytes,
      nonRetryable:
        response.status === 489 &&
        response.headers.get("Upstash-NonRetryable-Error")?.toLowerCase() === "true",
      retryAfter: response.headers.get("Retry-After"),
    };
  } catch (error) {
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : `delivery failed: ${(error as Error).message}`;
    return { headers: {}, body: new Uint8Array(0), error: reason, nonRetryable: false, retryAfter: null };
  }
}

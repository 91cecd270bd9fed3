// One QStash delivery to one actor: verify the signature on the exact bytes, validate the message, run the
// handler, and turn its outcome into the status code QStash acts on.
import type { Receiver } from "@upstash/qstash";
import type { z } from "zod";
import {
  type ActorDefinition,
  type ActorServices,
  type AnyActor,
  DEFAULT_MAX_LATER,
  type Delivery,
} from "./define.ts";
import { errorFields, type Logger } from "./log.ts";
import type { Outcome } from "./outcome.ts";

/** Headers the host puts on its own `later` re-dispatches; QStash forwards them to the next delivery. */
export const LATER_COUNT_HEADER = "Fairway-Later-Count";
export const ORIGIN_MESSAGE_HEADER = "Fairway-Origin-Message-Id";

/** QStash's "do not retry" status: the message goes straight to the dead-letter queue. */
export const NON_RETRYABLE_STATUS = 489;

export interface DeliveryDeps {
  receiver: Receiver;
  services: ActorServices;
  log: Logger;
  /** The exact URL QStash signed for this actor, e.g. http://127.0.0.1:8082/actors/ping. */
  url: string;
  maxBodyBytes: number;
  /** Seconds of clock skew tolerated on the signature's iat / nbf / exp. */
  clockToleranceSeconds: number;
}

export async function handleDelivery(
  actor: AnyActor,
  request: Request,
  deps: DeliveryDeps,
): Promise<Response> {
  const body = await readBody(request, deps.maxBodyBytes);
  if (body === undefined) return json(413, { error: `body larger than ${deps.maxBodyBytes} bytes` });

  const refusal = await verifySignature(request.headers.get("Upstash-Signature"), body, deps);
  if (refusal) return json(401, { error: refusal });

  const delivery = readDelivery(request.headers);
  const log = deps.log.child({ actor: actor.name, messageId: delivery.messageId, retried: delivery.retried });

  const parsed = parseMessage(actor.schema, body);
  if (!parsed.ok) {
    log.warn("malformed message", { field: parsed.field, reason: parsed.error });
    return nonRetryable({ error: parsed.error, field: parsed.field });
  }

  let outcome: Outcome;
  try {
    outcome = await actor.handler(parsed.message, { ...deps.services, actor: actor.name, delivery, log });
  } catch (error) {
    log.error("handler threw", errorFields(error));
    return json(500, {
      error: `actor ${actor.name} failed: ${error instanceof Error ? error.message : error}`,
    });
  }
  return respond(actor, outcome, body, delivery, deps, log);
}

async function respond(
  actor: AnyActor,
  outcome: Outcome,
  body: string,
  delivery: Delivery,
  deps: DeliveryDeps,
  log: Logger,
): Promise<Response> {
  switch (outcome.kind) {
    case "ok":
      return json(200, outcome.body ?? { ok: true });
    case "retry": {
      log.warn("retry", { reason: outcome.reason });
      const headers: Record<string, string> =
        outcome.retryAfterSeconds === undefined ? {} : { "Retry-After": String(outcome.retryAfterSeconds) };
      return json(500, { error: outcome.reason }, headers);
    }
    case "fail":
      log.warn("fail", { reason: outcome.reason });
      return nonRetryable({ error: outcome.reason });
    case "later":
      return redispatch(actor, outcome, body, delivery, deps, log);
  }
}

/** Publishes the same bytes to this actor again after a delay; the fresh message has its full retry budget. */
async function redispatch(
  actor: AnyActor,
  outcome: Extract<Outcome, { kind: "later" }>,
  body: string,
  delivery: Delivery,
  deps: DeliveryDeps,
  log: Logger,
): Promise<Response> {
  const maxLater = actor.maxLater ?? DEFAULT_MAX_LATER;
  if (delivery.laterCount >= maxLater) {
    const reason = `gave up after ${maxLater} later re-dispatches: ${outcome.reason}`;
    log.error("later limit reached", { reason, originMessageId: delivery.originMessageId });
    return nonRetryable({ error: reason });
  }
  const laterCount = delivery.laterCount + 1;
  try {
    const published = await deps.services.publisher.publishRaw(actor.name, body, {
      ...outcome.options,
      delay: outcome.delay,
      // A retried delivery that already re-dispatched must not start a second chain.
      deduplicationId: delivery.messageId ? `later-${delivery.messageId}` : undefined,
      headers: {
        [LATER_COUNT_HEADER]: String(laterCount),
        [ORIGIN_MESSAGE_HEADER]: delivery.originMessageId,
      },
    });
    log.info("later", {
      reason: outcome.reason,
      delay: outcome.delay,
      laterCount,
      originMessageId: delivery.originMessageId,
      nextMessageId: published.messageId,
    });
    return json(200, { later: { messageId: published.messageId, laterCount, reason: outcome.reason } });
  } catch (error) {
    // Could not re-dispatch: let QStash retry the delivery rather than lose the message.
    log.error("later re-dispatch failed", errorFields(error));
    return json(500, { error: `could not re-dispatch: ${error instanceof Error ? error.message : error}` });
  }
}

async function verifySignature(
  signature: string | null,
  body: string,
  deps: DeliveryDeps,
): Promise<string | null> {
  if (!signature) return "missing Upstash-Signature header";
  try {
    await deps.receiver.verify({
      signature,
      body,
      url: deps.url,
      clockTolerance: deps.clockToleranceSeconds,
    });
    return null;
  } catch (error) {
    return `invalid Upstash-Signature: ${error instanceof Error ? error.message : error}`;
  }
}

function readDelivery(headers: Headers): Delivery {
  const messageId = headers.get("Upstash-Message-Id") ?? "";
  return {
    messageId,
    retried: nonNegativeInt(headers.get("Upstash-Retried")),
    scheduleId: headers.get("Upstash-Schedule-Id") ?? undefined,
    laterCount: nonNegativeInt(headers.get(LATER_COUNT_HEADER)),
    originMessageId: headers.get(ORIGIN_MESSAGE_HEADER) || messageId,
  };
}

type Parsed<T> = { ok: true; message: T } | { ok: false; field: string; error: string };

function parseMessage<S extends z.ZodType>(
  schema: ActorDefinition<S>["schema"],
  body: string,
): Parsed<z.infer<S>> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, field: "(body)", error: `message is not valid JSON: ${detail}` };
  }
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "(message)";
  return { ok: false, field, error: `invalid message: field "${field}": ${issue?.message ?? "invalid"}` };
}

/** Reads the whole body as text, or undefined once it passes `limit` bytes (without buffering the rest). */
async function readBody(request: Request, limit: number): Promise<string | undefined> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null) return Number(declared) > limit ? undefined : request.text();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function nonRetryable(body: unknown): Response {
  return json(NON_RETRYABLE_STATUS, body, { "Upstash-NonRetryable-Error": "true" });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function nonNegativeInt(raw: string | null): number {
  const value = Number(raw ?? "0");
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

// Sends messages to actors through QStash. Web-standard only (the official client + fetch), so the edge can
// use it on Workers as well as the actors host on Bun.
import type { Client, FlowControl } from "@upstash/qstash";
import { type ActorMessage, type ActorName, actorMessages } from "../domain/actor-messages.ts";

/** A QStash duration (`"10s"`, `"5m"`) or a number of seconds. */
export type Delay = number | `${bigint}${"s" | "m" | "h" | "d"}`;

export interface FlowControlOptions {
  /** One lane per key across all actors, e.g. one per tenant. */
  key: string;
  parallelism?: number;
  rate?: number;
  period?: Delay;
}

export interface PublishOptions {
  delay?: Delay;
  /** Unix time in seconds; wins over `delay`. */
  notBefore?: number;
  deduplicationId?: string;
  flowControl?: FlowControlOptions;
  retries?: number;
  timeout?: Delay;
  /** Delivered to the actor as ordinary headers (QStash forwards them). */
  headers?: Record<string, string>;
  /** The actor QStash tells, with the message and its last answer, once the message lands in the DLQ. */
  failureCallback?: ActorName;
}

export interface PublishResult {
  messageId: string;
  /** True when QStash had already accepted the same deduplication id and did not enqueue again. */
  deduplicated: boolean;
}

/** Where actor messages go: a QStash client and the base URL the actors host is reachable at. */
export interface ActorsTarget {
  client: Client;
  actorsUrl: string;
}

export type PublishToActorRequest<N extends ActorName> = PublishOptions & { actor: N; body: ActorMessage<N> };

/** Thrown before anything is sent when a message does not match its actor's schema. */
export class ActorMessageError extends Error {
  constructor(
    readonly actor: string,
    readonly field: string,
    detail: string,
  ) {
    super(`invalid ${actor} message: field "${field}": ${detail}`);
    this.name = "ActorMessageError";
  }
}

export function actorUrl(actorsUrl: string, actor: string): string {
  return `${actorsUrl.replace(/\/+$/, "")}/actors/${encodeURIComponent(actor)}`;
}

/**
 * Validates a typed message and publishes it to its actor.
 * @example await publishToActor(target, { actor: "ping", body: { echo: "hi" }, flowControl: { key: "t:1", parallelism: 2 } })
 */
export async function publishToActor<N extends ActorName>(
  target: ActorsTarget,
  request: PublishToActorRequest<N>,
): Promise<PublishResult> {
  const { actor, body, ...options } = request;
  const parsed = actorMessages[actor].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ActorMessageError(actor, issue?.path.join(".") || "(message)", issue?.message ?? "invalid");
  }
  return publishRawToActor(target, actor, JSON.stringify(parsed.data), options);
}

/** Publishes an already serialised JSON body to any actor by name; the host uses it to re-dispatch deliveries. */
export async function publishRawToActor(
  target: ActorsTarget,
  actor: string,
  body: string,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const response = await target.client.publish({
    url: actorUrl(target.actorsUrl, actor),
    body,
    headers: { ...options.headers, "Content-Type": "application/json" },
    delay: options.delay,
    notBefore: options.notBefore,
    deduplicationId: options.deduplicationId,
    flowControl: options.flowControl && toFlowControl(options.flowControl),
    retries: options.retries,
    timeout: options.timeout,
    failureCallback: options.failureCallback && actorUrl(target.actorsUrl, options.failureCallback),
  });
  return { messageId: response.messageId, deduplicated: response.deduplicated === true };
}

function toFlowControl(options: FlowControlOptions): FlowControl {
  if (options.parallelism === undefined && options.rate === undefined) {
    throw new TypeError(`flowControl "${options.key}" needs parallelism or rate`);
  }
  return options as FlowControl;
}

/** A publisher bound to one target, as handed to actors and the edge. */
export interface Publisher {
  readonly actorsUrl: string;
  publish<N extends ActorName>(request: PublishToActorRequest<N>): Promise<PublishResult>;
  publishRaw(actor: string, body: string, options?: PublishOptions): Promise<PublishResult>;
}

export function createPublisher(target: ActorsTarget): Publisher {
  return {
    actorsUrl: target.actorsUrl,
    publish: (request) => publishToActor(target, request),
    publishRaw: (actor, body, options) => publishRawToActor(target, actor, body, options),
  };
}

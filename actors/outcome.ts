// What an actor's handler answers; the host turns it into the status code QStash acts on.
import type { Delay, PublishOptions } from "../src/publisher/index.ts";

/** Publish settings for a `later` re-dispatch (the delivery's own flow-control key is not visible to the actor). */
export type LaterOptions = Pick<PublishOptions, "flowControl" | "retries" | "timeout" | "failureCallback">;

export type Outcome =
  | { kind: "ok"; body?: unknown }
  | { kind: "retry"; reason: string; retryAfterSeconds?: number }
  | { kind: "fail"; reason: string }
  | { kind: "later"; delay: Delay; reason: string; options?: LaterOptions };

/** Done: 200, QStash forgets the message. */
export function ok(body?: unknown): Outcome {
  return { kind: "ok", body };
}

/** Transient failure: 500 (optionally with `Retry-After`), QStash retries with backoff and spends one retry. */
export function retry(reason: string, retryAfterSeconds?: number): Outcome {
  return { kind: "retry", reason, retryAfterSeconds };
}

/** Permanent failure: 489 + `Upstash-NonRetryable-Error`, straight to the dead-letter queue. */
export function fail(reason: string): Outcome {
  return { kind: "fail", reason };
}

/**
 * Not now (e.g. no permit yet): the host publishes the same message to itself after `delay` and answers 200,
 * so waiting never spends the retry budget.
 */
export function later(delay: Delay, reason: string, options?: LaterOptions): Outcome {
  return { kind: "later", delay, reason, options };
}

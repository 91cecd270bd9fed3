// One explicit pipeline per request: every read a request needs goes to Redis in one HTTP round trip. On a
// long-lived server (Bun, Deno) the pipelines of requests arriving together can share that round trip too.
// Commands travel as plain arrays and replies come back as Redis gave them (strings, integers, arrays, null):
// the hot path decodes only what it reads, instead of the client JSON-parsing every value it receives.
import type { Redis, Requester } from "@upstash/redis/cloudflare";

/** One command as the REST protocol carries it: `["hgetall", key]`. */
export type RedisCommand = readonly (string | number)[];
/** One command's reply in a `/pipeline` answer. */
export type PipelineReply = { result?: unknown; error?: string };

/** Sends a batch's commands and returns one reply per command, in order. */
export interface RedisTransport {
  exec(commands: readonly RedisCommand[]): Promise<PipelineReply[]>;
}

/**
 * The HTTP requester inside an @upstash/redis client: it carries the URL, token, response encoding, retries
 * and read-your-writes token the client was configured with. The client keeps it in a protected field.
 */
function requesterOf(redis: Redis): Requester {
  const requester = (redis as unknown as { client?: Requester }).client;
  if (typeof requester?.request !== "function") {
    throw new TypeError("this Redis client has no REST requester to send raw pipelines through");
  }
  return requester;
}

/** Each batch is its own `/pipeline` request. */
export function directTransport(redis: Redis): RedisTransport {
  const requester = requesterOf(redis);
  return {
    async exec(commands) {
      const replies = await requester.request<unknown>({ path: ["pipeline"], body: commands });
      if (!Array.isArray(replies) || replies.length !== commands.length) {
        throw new Error(`Redis answered a pipeline of ${commands.length} commands with something else`);
      }
      return replies as PipelineReply[];
    },
  };
}

/** Most commands merged into one request; past this the window is sent even while others are in flight. */
const MAX_COALESCED_COMMANDS = 1000;
/**
 * Requests to Redis in flight at once; batches arriving meanwhile wait and go together when one returns. With 50
 * callers on two cores, three gave a lower p99 and more throughput than two (smaller groups of requests wait on
 * each other at every hop) for no more CPU per request; four was no better than three.
 */
const MAX_IN_FLIGHT = 3;

/**
 * Batches handed over while Redis is busy go as one `/pipeline` request, each getting its own slice of the
 * replies back: a window opens with the first batch and is sent at the next turn of the event loop, or, while
 * MAX_IN_FLIGHT requests are already out, as soon as one of them returns. An idle server adds no wait; a busy
 * one sends fewer, larger requests instead of queueing many small ones behind each other. For servers only: on
 * Workers a promise settled by another request's I/O is not allowed, so the Workers entry uses `direct`.
 */
export function coalescingTransport(redis: Redis, maxInFlight = MAX_IN_FLIGHT): RedisTransport {
  const direct = directTransport(redis);
  type Window = {
    commands: RedisCommand[];
    batches: { count: number; settle: (replies: PipelineReply[] | Error) => void }[];
  };
  let window: Window | null = null;
  /** The window has had its turn and is only waiting for a request slot. */
  let ready = false;
  let inFlight = 0;
  const send = async (current: Window) => {
    inFlight++;
    let replies: PipelineReply[] | Error;
    try {
      replies = await direct.exec(current.commands);
    } catch (error) {
      replies = error as Error;
    }
    inFlight--;
    // The window that waited for this slot leaves before these replies wake their requests.
    if (ready) flush(true);
    let offset = 0;
    for (const batch of current.batches) {
      batch.settle(replies instanceof Error ? replies : replies.slice(offset, offset + batch.count));
      offset += batch.count;
    }
  };
  const flush = (force: boolean) => {
    const current = window;
    if (!current) return;
    if (!force && inFlight >= maxInFlight) {
      ready = true;
      return;
    }
    window = null;
    ready = false;
    void send(current);
  };
  return {
    exec(commands) {
      return new Promise((resolve, reject) => {
        if (!window) {
          window = { commands: [], batches: [] };
          nextTurn(() => flush(false));
        }
        for (const command of commands) window.commands.push(command);
        window.batches.push({
          count: commands.length,
          settle: (replies) => (replies instanceof Error ? reject(replies) : resolve(replies)),
        });
        if (window.commands.length >= MAX_COALESCED_COMMANDS) flush(true);
      });
    },
  };
}

/**
 * Runs `task` after the requests that are ready now have had their turn: `setImmediate` where the runtime has
 * it (Bun, Deno), else a zero timeout. A microtask would run before the next request is even read.
 */
const nextTurn: (task: () => void) => void = (() => {
  const immediate = (globalThis as { setImmediate?: (task: () => void) => unknown }).setImmediate;
  return immediate ? (task) => void immediate(task) : (task) => void setTimeout(task, 0);
})();

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A Redis error reply for one command of the batch (the others still succeeded). */
export class RedisCommandError extends Error {
  override name = "RedisCommandError";
}

/**
 * Collects commands, sends them together with `send()`, and gives each command its raw reply: bulk strings as
 * strings (a JSON value stored as text stays text), integers as numbers, nil as null. A command added with
 * `queue` gets a promise of its reply; one added with `add` is read with `reply(index)` once `send()` returned,
 * which spares the request a promise per command on its hot path.
 *
 * @example
 * const batch = new RedisBatch(redis);
 * const version = batch.queue(["get", keys.dataVersion(t)]);
 * const record = batch.add(["hgetall", keys.tenant(t)]);
 * await batch.send();
 * Number(await version);
 * batch.reply(record);
 */
export class RedisBatch {
  private readonly commands: RedisCommand[] = [];
  /** One per command: its promise's settle functions, or null for a command added with `add`. */
  private readonly waiters: (Waiter | null)[] = [];
  private results: PipelineReply[] | undefined;
  private sent = false;
  private readonly transport: RedisTransport;

  constructor(redis: Redis, transport?: RedisTransport) {
    this.transport = transport ?? directTransport(redis);
  }

  get isOpen(): boolean {
    return !this.sent;
  }

  /** Adds one command; its promise settles with the raw reply once the batch has been sent. */
  queue<T = unknown>(command: RedisCommand): Promise<T> {
    if (this.sent) throw new Error("this Redis batch was already sent");
    this.commands.push(command);
    const promise = new Promise<T>((resolve, reject) =>
      this.waiters.push({ resolve: resolve as (value: unknown) => void, reject }),
    );
    // A command whose answer nobody reads (the request failed earlier) must not become an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  /** Adds one command whose raw reply is read with `reply(index)` after `send()`; returns that index. */
  add(command: RedisCommand): number {
    if (this.sent) throw new Error("this Redis batch was already sent");
    this.waiters.push(null);
    return this.commands.push(command) - 1;
  }

  /** The raw reply of the command `add` returned `index` for; throws RedisCommandError for an error reply. */
  reply(index: number): unknown {
    if (this.results === undefined) throw new Error("this Redis batch has not been answered");
    const reply = this.results[index];
    if (reply?.error !== undefined) throw new RedisCommandError(reply.error);
    return reply?.result ?? null;
  }

  /** Sends every command in one request. Throws only when Redis could not be reached at all. */
  async send(): Promise<void> {
    if (this.sent) throw new Error("this Redis batch was already sent");
    this.sent = true;
    if (this.waiters.length === 0) return;
    let results: PipelineReply[];
    try {
      results = await this.transport.exec(this.commands);
    } catch (error) {
      for (const waiter of this.waiters) waiter?.reject(error as Error);
      throw error;
    }
    this.results = results;
    for (let i = 0; i < this.waiters.length; i++) {
      const waiter = this.waiters[i];
      if (waiter === null || waiter === undefined) continue;
      try {
        waiter.resolve(this.reply(i));
      } catch (error) {
        waiter.reject(error as Error);
      }
    }
  }

  /** Adds `EVALSHA sha keys args` while the batch is open; undefined once it was sent. */
  queueScript(sha: string, keys: readonly string[], args: readonly unknown[]): Promise<unknown> | undefined {
    if (this.sent) return undefined;
    return this.queue(["evalsha", sha, keys.length, ...keys, ...args.map(argumentText)]);
  }
}

/** HGETALL's raw reply (field, value, field, value, …) as an object; null for a missing hash. */
export function hashFromFields(fields: unknown): Record<string, string> | null {
  if (!Array.isArray(fields) || fields.length === 0) return null;
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) hash[String(fields[i])] = String(fields[i + 1]);
  return hash;
}

/** A script argument as the official client sends it: text and numbers as they are, anything else as JSON. */
function argumentText(value: unknown): string | number {
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

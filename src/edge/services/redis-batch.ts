// One explicit pipeline per request: every read a request needs goes to Redis in one HTTP round trip. On a
// long-lived server (Bun, Deno) the pipelines of requests arriving together can share that round trip too.
import type { Redis } from "@upstash/redis/cloudflare";
import { portableEval, portableSha } from "./portable-scripts.ts";

type Pipeline = ReturnType<Redis["pipeline"]>;
/** Adds one command to a pipeline. */
export type PipelineOp = (pipeline: Pipeline) => unknown;
/** One command's reply as `exec({keepErrors: true})` gives it. */
export type PipelineReply = { result?: unknown; error?: string };

/** Sends a batch's commands and returns one reply per command, in order. */
export interface RedisTransport {
  exec(ops: readonly PipelineOp[]): Promise<PipelineReply[]>;
}

/** Each batch is its own `/pipeline` request. */
export function directTransport(redis: Redis): RedisTransport {
  return {
    async exec(ops) {
      const pipeline = redis.pipeline();
      for (const op of ops) op(pipeline);
      return (await pipeline.exec({ keepErrors: true })) as PipelineReply[];
    },
  };
}

/** Most batches merged into one request; past this the window is sent at once. */
const MAX_COALESCED_COMMANDS = 1000;

/**
 * Batches handed over within the same turn of the event loop go to Redis as one `/pipeline` request, each
 * getting its own slice of the replies back: under load, fewer and larger round trips. For servers only: on
 * Workers a promise settled by another request's I/O is not allowed, so the Workers entry uses `direct`.
 */
export function coalescingTransport(redis: Redis): RedisTransport {
  let window: {
    ops: PipelineOp[];
    batches: { count: number; settle: (replies: PipelineReply[] | Error) => void }[];
  } | null = null;
  const flush = async () => {
    const current = window;
    window = null;
    if (!current) return;
    let replies: PipelineReply[] | Error;
    try {
      replies = await directTransport(redis).exec(current.ops);
    } catch (error) {
      replies = error as Error;
    }
    let offset = 0;
    for (const batch of current.batches) {
      batch.settle(replies instanceof Error ? replies : replies.slice(offset, offset + batch.count));
      offset += batch.count;
    }
  };
  return {
    exec(ops) {
      return new Promise((resolve, reject) => {
        if (!window) {
          window = { ops: [], batches: [] };
          nextTurn(() => void flush());
        }
        window.ops.push(...ops);
        window.batches.push({
          count: ops.length,
          settle: (replies) => (replies instanceof Error ? reject(replies) : resolve(replies)),
        });
        if (window.ops.length >= MAX_COALESCED_COMMANDS) void flush();
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
 * Collects commands, sends them together with `send()`, and settles each command's own promise.
 *
 * @example
 * const batch = new RedisBatch(redis);
 * const version = batch.queue((p) => p.get(keys.dataVersion(t)));
 * await batch.send();
 * await version;
 */
export class RedisBatch {
  private readonly ops: PipelineOp[] = [];
  private readonly waiters: Waiter[] = [];
  private sent = false;

  constructor(
    private readonly redis: Redis,
    private readonly transport: RedisTransport = directTransport(redis),
  ) {}

  get isOpen(): boolean {
    return !this.sent;
  }

  /** Adds one command; its promise settles once the batch has been sent. */
  queue<T>(add: PipelineOp): Promise<T> {
    if (this.sent) throw new Error("this Redis batch was already sent");
    this.ops.push(add);
    const promise = new Promise<T>((resolve, reject) =>
      this.waiters.push({ resolve: resolve as (value: unknown) => void, reject }),
    );
    // A command whose answer nobody reads (the request failed earlier) must not become an unhandled rejection.
    promise.catch(() => {});
    return promise;
  }

  /** Sends every queued command in one request. Throws only when Redis could not be reached at all. */
  async send(): Promise<void> {
    if (this.sent) throw new Error("this Redis batch was already sent");
    this.sent = true;
    if (this.waiters.length === 0) return;
    let results: PipelineReply[];
    try {
      results = await this.transport.exec(this.ops);
    } catch (error) {
      for (const waiter of this.waiters) waiter.reject(error as Error);
      throw error;
    }
    this.waiters.forEach((waiter, i) => {
      const reply = results[i];
      if (reply?.error !== undefined) waiter.reject(new RedisCommandError(reply.error));
      else waiter.resolve(reply?.result ?? null);
    });
  }

  /**
   * The slice of a Redis client @upstash/ratelimit uses: EVALSHA joins this batch while it is open; anything
   * after the batch was sent (the EVAL that follows a NOSCRIPT, once per Redis) goes straight to Redis.
   * Scripts go through `portable-scripts.ts`, so they also run on a Redis that refuses newer shebang flags.
   */
  scriptRunner(): Pick<Redis, "evalsha" | "eval" | "get" | "set"> {
    const redis = this.redis;
    return {
      evalsha: ((sha: string, keys: string[], args: unknown[]) => {
        const runnable = portableSha(sha);
        return this.sent
          ? redis.evalsha(runnable, keys, args)
          : this.queue((p) => p.evalsha(runnable, keys, args));
      }) as Redis["evalsha"],
      eval: ((script: string, keys: string[], args: unknown[]) =>
        portableEval(redis, script, keys, args)) as Redis["eval"],
      get: ((key: string) => redis.get(key)) as Redis["get"],
      set: ((key: string, value: unknown) => redis.set(key, value)) as Redis["set"],
    };
  }
}

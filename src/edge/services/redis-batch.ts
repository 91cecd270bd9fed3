// One explicit pipeline per request: every read a request needs goes to Redis in one HTTP round trip.
import type { Redis } from "@upstash/redis/cloudflare";
import { portableEval, portableSha } from "./portable-scripts.ts";

type Pipeline = ReturnType<Redis["pipeline"]>;

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
  private readonly pipeline: Pipeline;
  private readonly waiters: Waiter[] = [];
  private sent = false;

  constructor(private readonly redis: Redis) {
    this.pipeline = redis.pipeline();
  }

  get isOpen(): boolean {
    return !this.sent;
  }

  /** Adds one command; its promise settles once the batch has been sent. */
  queue<T>(add: (pipeline: Pipeline) => unknown): Promise<T> {
    if (this.sent) throw new Error("this Redis batch was already sent");
    add(this.pipeline);
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
    let results: { result?: unknown; error?: string }[];
    try {
      results = (await this.pipeline.exec({ keepErrors: true })) as typeof results;
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

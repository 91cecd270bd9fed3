// A counting semaphore in Redis: leases in a sorted set scored by expiry on the Redis clock. The Lua scripts
// return small integer codes; this module is the one place that names them.
import type { Redis } from "@upstash/redis";
import { runLua } from "./lua-script.ts";
import { semaphoreScripts } from "./scripts.ts";

export type AcquireResult =
  | { status: "acquired"; expiresAt: number; holders: number }
  /** `retryAt`: when the earliest live lease expires (a holder may release sooner). */
  | { status: "full"; retryAt: number; holders: number }
  | { status: "already-held"; expiresAt: number; holders: number };

export type HeartbeatResult =
  | { status: "extended"; expiresAt: number }
  /** Released, reclaimed after expiry, or never granted. */
  | { status: "not-held" }
  /** The lease had run out; it was removed, not renewed: stop the work and acquire again. */
  | { status: "expired"; expiredAt: number };

export type ReleaseResult = "released" | "not-held";

/** An unguessable lease token: whoever knows it owns the lease. */
export function newLeaseToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function namedAcquire([code, time, holders]: [number, number, number]): AcquireResult {
  switch (code) {
    case 1:
      return { status: "acquired", expiresAt: time, holders };
    case 0:
      return { status: "full", retryAt: time, holders };
    case 2:
      return { status: "already-held", expiresAt: time, holders };
    default:
      throw new Error(`acquire.lua: unknown code ${code}`);
  }
}

export function namedHeartbeat([code, time]: [number, number]): HeartbeatResult {
  switch (code) {
    case 1:
      return { status: "extended", expiresAt: time };
    case 0:
      return { status: "not-held" };
    case -1:
      return { status: "expired", expiredAt: time };
    default:
      throw new Error(`heartbeat.lua: unknown code ${code}`);
  }
}

/** Extends the lease `member` of the semaphore at `key` by `ttlMs` from now, if it is still live. */
export async function heartbeatLease(
  redis: Redis,
  key: string,
  member: string,
  ttlMs: number,
): Promise<HeartbeatResult> {
  return namedHeartbeat(await runLua(redis, semaphoreScripts.heartbeat, [key], [member, ttlMs]));
}

/** Removes the lease `member` from the semaphore at `key`; does nothing for anyone else's lease. */
export async function releaseLease(redis: Redis, key: string, member: string): Promise<ReleaseResult> {
  const removed = await runLua<number>(redis, semaphoreScripts.release, [key], [member]);
  return removed === 1 ? "released" : "not-held";
}

export interface SemaphoreOptions {
  /** Permits in all. */
  limit: number;
  /** How long a lease lives without a heartbeat. */
  ttlMs: number;
}

/**
 * A plain semaphore over one Redis key. The query path uses the lane-aware tenant and warehouse variants
 * (actors/lanes/), which share these lease rules and the heartbeat / release scripts.
 *
 * @example
 * const sem = new Semaphore(redis, "jobs:sem", { limit: 4, ttlMs: 30_000 });
 * const token = newLeaseToken();
 * if ((await sem.acquire(token)).status === "acquired") try { … } finally { await sem.release(token); }
 */
export class Semaphore {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly options: SemaphoreOptions,
  ) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError("limit must be >= 1");
    if (!Number.isInteger(options.ttlMs) || options.ttlMs < 1) throw new RangeError("ttlMs must be >= 1");
  }

  async acquire(token: string): Promise<AcquireResult> {
    const reply = await runLua<[number, number, number]>(
      this.redis,
      semaphoreScripts.acquire,
      [this.key],
      [this.options.limit, this.options.ttlMs, token],
    );
    return namedAcquire(reply);
  }

  heartbeat(token: string): Promise<HeartbeatResult> {
    return heartbeatLease(this.redis, this.key, token, this.options.ttlMs);
  }

  release(token: string): Promise<ReleaseResult> {
    return releaseLease(this.redis, this.key, token);
  }
}

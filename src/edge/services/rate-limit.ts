// Per-tenant rate limiting with @upstash/ratelimit (sliding window from the tenant's own limits), arranged so
// its script rides the request's one Redis round trip whenever the tenant's limits are already known here.

import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../../domain/keys.ts";
import type { TenantLimits } from "../../domain/tenants.ts";
import { portableEval, portableSha } from "./portable-scripts.ts";
import type { RedisBatch } from "./redis-batch.ts";

export interface RateLimitVerdict {
  success: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  reset: number;
}

/** Bounds on per-isolate memory: limits seen, limiters kept, blocked identifiers. */
const MAX_REMEMBERED = 10_000;

/**
 * Remembers each tenant's limits as last read from Redis, so the next request can start its rate-limit script
 * in the same pipeline as its authentication reads. A limits change therefore takes effect from the request
 * after the one that read it, in each isolate.
 */
export class TenantRateLimiter {
  private readonly knownLimits = new Map<string, TenantLimits>();
  /** One @upstash/ratelimit per tenant and limits: it holds no state of its own besides the shared maps. */
  private readonly limiters = new Map<string, { rate: number; window: number; ratelimit: Ratelimit }>();
  /** @upstash/ratelimit's ephemeral cache: identifiers known to be over their limit until a given time. */
  private readonly blocked = new Map<string, number>();
  /** The batch of the `limit` call running now; the library calls EVALSHA before its first await. */
  private current: RedisBatch | undefined;
  private readonly scripts: Pick<Redis, "evalsha" | "eval" | "get" | "set">;

  constructor(redis: Redis) {
    // The slice of a Redis client @upstash/ratelimit uses. EVALSHA joins the current request's batch while it is
    // open; anything else (the EVAL that follows a NOSCRIPT, once per Redis) goes straight to Redis. Scripts go
    // through `portable-scripts.ts`, so they also run on a Redis that refuses newer shebang flags.
    this.scripts = {
      evalsha: ((sha: string, scriptKeys: string[], args: unknown[]) => {
        const runnable = portableSha(sha);
        return (
          this.current?.queueScript(runnable, scriptKeys, args) ?? redis.evalsha(runnable, scriptKeys, args)
        );
      }) as Redis["evalsha"],
      eval: ((script: string, scriptKeys: string[], args: unknown[]) =>
        portableEval(redis, script, scriptKeys, args)) as Redis["eval"],
      get: ((key: string) => redis.get(key)) as Redis["get"],
      set: ((key: string, value: unknown) => redis.set(key, value)) as Redis["set"],
    };
  }

  knownLimitsOf(tenantId: string): TenantLimits | undefined {
    return this.knownLimits.get(tenantId);
  }

  remember(tenantId: string, limits: TenantLimits): void {
    const known = this.knownLimits.get(tenantId);
    if (
      known?.rateLimit === limits.rateLimit &&
      known.rateLimitWindowSeconds === limits.rateLimitWindowSeconds &&
      known.concurrencyLimit === limits.concurrencyLimit
    ) {
      return;
    }
    if (known === undefined && this.knownLimits.size >= MAX_REMEMBERED) {
      const oldest = this.knownLimits.keys().next().value;
      if (oldest !== undefined) this.knownLimits.delete(oldest);
    }
    this.knownLimits.set(tenantId, {
      concurrencyLimit: limits.concurrencyLimit,
      rateLimit: limits.rateLimit,
      rateLimitWindowSeconds: limits.rateLimitWindowSeconds,
    });
  }

  /**
   * Counts one request. The script's EVALSHA joins `batch` when it is still open (else it goes on its own).
   * The identifier is derived from the presented key's hash, so requests with a wrong key for a real tenant
   * id fill a bucket of their own and can never use up the tenant's.
   */
  limit(
    batch: RedisBatch,
    tenantId: string,
    keyHash: string,
    limits: TenantLimits,
  ): Promise<RateLimitVerdict> {
    if (this.blocked.size >= MAX_REMEMBERED) this.blocked.clear();
    const ratelimit = this.ratelimitFor(tenantId, limits);
    this.current = batch;
    try {
      return ratelimit.limit(`k${keyHash.slice(0, 16)}`);
    } finally {
      this.current = undefined;
    }
  }

  private ratelimitFor(tenantId: string, limits: TenantLimits): Ratelimit {
    const known = this.limiters.get(tenantId);
    if (known?.rate === limits.rateLimit && known.window === limits.rateLimitWindowSeconds) {
      return known.ratelimit;
    }
    if (known === undefined && this.limiters.size >= MAX_REMEMBERED) {
      const oldest = this.limiters.keys().next().value;
      if (oldest !== undefined) this.limiters.delete(oldest);
    }
    const ratelimit = new Ratelimit({
      redis: this.scripts as never,
      limiter: Ratelimit.slidingWindow(limits.rateLimit, `${limits.rateLimitWindowSeconds} s`),
      prefix: keys.rateLimit(tenantId),
      ephemeralCache: this.blocked,
      analytics: false,
      enableTelemetry: false,
      // Redis failures surface as errors (503), never as a silent "allowed".
      timeout: 0,
    });
    this.limiters.set(tenantId, {
      rate: limits.rateLimit,
      window: limits.rateLimitWindowSeconds,
      ratelimit,
    });
    return ratelimit;
  }
}

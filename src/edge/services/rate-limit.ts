// Per-tenant rate limiting with @upstash/ratelimit (sliding window from the tenant's own limits), arranged so
// its script rides the request's one Redis round trip whenever the tenant's limits are already known here.
import { Ratelimit } from "@upstash/ratelimit";
import { keys } from "../../domain/keys.ts";
import type { TenantLimits } from "../../domain/tenants.ts";
import type { RedisBatch } from "./redis-batch.ts";

export interface RateLimitVerdict {
  success: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  reset: number;
}

/** Bounds on per-isolate memory: limits seen and blocked identifiers. */
const MAX_REMEMBERED = 10_000;

/**
 * Remembers each tenant's limits as last read from Redis, so the next request can start its rate-limit script
 * in the same pipeline as its authentication reads. A limits change therefore takes effect from the request
 * after the one that read it, in each isolate.
 */
export class TenantRateLimiter {
  private readonly knownLimits = new Map<string, TenantLimits>();
  /** @upstash/ratelimit's ephemeral cache: identifiers known to be over their limit until a given time. */
  private readonly blocked = new Map<string, number>();

  knownLimitsOf(tenantId: string): TenantLimits | undefined {
    return this.knownLimits.get(tenantId);
  }

  remember(tenantId: string, limits: TenantLimits): void {
    if (!this.knownLimits.has(tenantId) && this.knownLimits.size >= MAX_REMEMBERED) {
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
    const ratelimit = new Ratelimit({
      redis: batch.scriptRunner() as never,
      limiter: Ratelimit.slidingWindow(limits.rateLimit, `${limits.rateLimitWindowSeconds} s`),
      prefix: keys.rateLimit(tenantId),
      ephemeralCache: this.blocked,
      analytics: false,
      enableTelemetry: false,
      // Redis failures surface as errors (503), never as a silent "allowed".
      timeout: 0,
    });
    return ratelimit.limit(`k${keyHash.slice(0, 16)}`);
  }
}

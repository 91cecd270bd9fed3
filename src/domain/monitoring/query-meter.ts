// Query answers counted in memory and written to Redis once a second, in one round trip per tenant and minute:
// timing every `POST /v1/queries` must not cost the request a Redis call (a cached answer is one round trip).

import type { CacheOutcome } from "./recorder.ts";
import { epochMinute, type MonitorRedis, type MonitorScope, queryFields, recordCounts } from "./recorder.ts";

export class QueryMeter {
  /** `<tenant>\n<minute>` → field → count, not yet written. */
  private pending = new Map<string, Map<string, number>>();
  private scheduled: Promise<void> | undefined;

  constructor(
    private readonly redis: MonitorRedis,
    private readonly scope: MonitorScope = {},
    private readonly flushAfterMs = 1000,
  ) {}

  /**
   * Counts one answer. Returns the pending write when this call scheduled it (Workers keep it alive with
   * `waitUntil`); undefined when one was already scheduled.
   */
  add(tenantId: string, cache: CacheOutcome, ms: number, now = Date.now()): Promise<void> | undefined {
    const key = `${tenantId}\n${epochMinute(now)}`;
    let counts = this.pending.get(key);
    if (!counts) {
      counts = new Map();
      this.pending.set(key, counts);
    }
    for (const field of queryFields(cache, ms)) counts.set(field, (counts.get(field) ?? 0) + 1);
    if (this.scheduled) return undefined;
    this.scheduled = new Promise<void>((resolve) => {
      setTimeout(() => {
        this.scheduled = undefined;
        this.flush().then(resolve, resolve);
      }, this.flushAfterMs);
    });
    return this.scheduled;
  }

  /** Writes everything counted so far; a failed write is dropped (monitoring never fails the work). */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    await Promise.all(
      [...batch].map(([key, counts]) => {
        const [tenantId, minute] = key.split("\n") as [string, string];
        return recordCounts(this.redis, tenantId, Number(minute), counts, this.scope).catch(() => {});
      }),
    );
  }
}

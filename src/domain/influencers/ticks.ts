// How a collector tick is published, by the edge (a loop's first tick) and by the collector (every next one).
// Web-standard, so both can use it.
import type { CollectorTick } from "./messages.ts";

/** Deliveries of one tick QStash attempts before the tick goes to the dead-letter queue (and the loop stalls). */
export const TICK_RETRIES = 8;
/** 0.5 s, 1 s, 2 s … 60 s: about two minutes in all, enough for an actors host to restart. */
export const TICK_RETRY_DELAY = "min(60000, 500 * pow(2, retried))";

export interface TickPublish {
  body: CollectorTick;
  deduplicationId: string;
  notBefore?: number;
  retries: number;
  timeout: `${bigint}s`;
  headers: Record<string, string>;
}

/**
 * The publish request for a tick: never earlier than its scheduled time, and deduplicated by (loop, time), so
 * however many deliveries of the previous tick publish it, one message exists. With whole-second precision the
 * time is `Upstash-Not-Before` (what QStash offers); finer, it is a millisecond `Upstash-Delay`, which the local
 * broker honours.
 */
export function tickPublish(tick: CollectorTick, precisionMs: number, now: number): TickPublish {
  const headers: Record<string, string> = { "Upstash-Retry-Delay": TICK_RETRY_DELAY };
  const request: TickPublish = {
    body: tick,
    deduplicationId: `tick-${tick.tenantId}-${tick.influencerId}-${tick.generation}-${tick.at}`,
    retries: TICK_RETRIES,
    timeout: "30s",
    headers,
  };
  if (precisionMs >= 1000) request.notBefore = Math.ceil(tick.at / 1000);
  else headers["Upstash-Delay"] = `${Math.max(0, tick.at - now)}ms`;
  return request;
}

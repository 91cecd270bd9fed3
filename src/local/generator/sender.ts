// Sends generated events through the public API at a target rate: events are produced on a steady clock,
// grouped per tenant into batches (sent when full, or every `flushMs` at low rates), with a bound on requests
// in flight. A 429 is retried after its Retry-After, a 5xx or network error a couple of times.
import type { IngestEvent } from "../../domain/events/index.ts";
import { buildCatalogue, EventStream } from "./model.ts";

export interface GeneratorTenant {
  id: string;
  apiKey: string;
}

export interface GenerateOptions {
  edgeUrl: string;
  tenants: readonly GeneratorTenant[];
  /** Events per second, all tenants together. */
  rate: number;
  /** Stop after this long; undefined runs until `signal` aborts. */
  durationMs?: number;
  batchSize?: number;
  /** Requests in flight at most. */
  concurrency?: number;
  /** Send a partial batch after this long, so low rates still flow. */
  flushMs?: number;
  seed?: number;
  lateRatio?: number;
  signal?: AbortSignal;
  /** Called about once a second, and once at the end. */
  onProgress?: (stats: GeneratorStats) => void;
  fetch?: typeof fetch;
}

export interface GeneratorStats {
  /** Events produced and handed to a request. */
  sent: number;
  /** Events the edge answered 202 for. */
  accepted: number;
  /** Events in batches the edge refused (4xx other than 429): a bug in the generator if ever non-zero. */
  rejected: number;
  /** Events in batches that failed for good (5xx or network, retries spent). */
  failed: number;
  requests: number;
  throttled: number;
  retries: number;
  inFlight: number;
  elapsedMs: number;
  /** Accepted events per second since the start, and over the last progress interval. */
  ratePerSecond: number;
  recentPerSecond: number;
  /** Request latency, ms, over the most recent requests. */
  p50Ms: number;
  p99Ms: number;
  lastError?: string;
}

const MAX_RETRIES = 2;
/** Latency percentiles are over the most recent requests. */
const LATENCY_WINDOW = 5000;

export async function generate(options: GenerateOptions): Promise<GeneratorStats> {
  if (options.tenants.length === 0) throw new Error("no tenants to send events for");
  if (!(options.rate > 0)) throw new Error("rate must be positive");
  const doFetch = options.fetch ?? fetch;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 8;
  const flushMs = options.flushMs ?? 500;
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const runId = `g${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const lanes = options.tenants.map((tenant, i) => ({
    tenant,
    stream: new EventStream(buildCatalogue({ seed: seed + i * 7919 }), {
      seed: seed + i,
      runId: `${runId}${i.toString(36)}`,
      lateRatio: options.lateRatio,
    }),
    buffer: [] as IngestEvent[],
    oldestAt: 0,
  }));

  const latencies: number[] = [];
  const stats: GeneratorStats = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    failed: 0,
    requests: 0,
    throttled: 0,
    retries: 0,
    inFlight: 0,
    elapsedMs: 0,
    ratePerSecond: 0,
    recentPerSecond: 0,
    p50Ms: 0,
    p99Ms: 0,
  };
  const inFlight = new Set<Promise<void>>();

  async function send(tenant: GeneratorTenant, events: IngestEvent[]): Promise<void> {
    const body = JSON.stringify({ events });
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let status = 0;
      let retryAfterMs = 200 * (attempt + 1);
      try {
        stats.requests++;
        const response = await doFetch(`${options.edgeUrl}/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
          body,
        });
        status = response.status;
        const text = await response.text();
        latencies.push(performance.now() - started);
        if (latencies.length > LATENCY_WINDOW) latencies.splice(0, latencies.length - LATENCY_WINDOW);
        if (status === 202) {
          stats.accepted += events.length;
          return;
        }
        stats.lastError = `${status} ${text.slice(0, 200)}`;
        if (status === 429) {
          stats.throttled++;
          retryAfterMs = Number(response.headers.get("retry-after") ?? 1) * 1000;
        } else if (status < 500) {
          stats.rejected += events.length;
          return;
        }
      } catch (error) {
        stats.lastError = error instanceof Error ? error.message : String(error);
      }
      if (status !== 429 && attempt >= MAX_RETRIES) {
        stats.failed += events.length;
        return;
      }
      if (options.signal?.aborted && status !== 429) {
        stats.failed += events.length;
        return;
      }
      stats.retries++;
      await sleep(retryAfterMs);
    }
  }

  function dispatch(lane: (typeof lanes)[number]): void {
    const events = lane.buffer;
    lane.buffer = [];
    stats.sent += events.length;
    const request = send(lane.tenant, events).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }

  const started = performance.now();
  let produced = 0;
  let lastReport = started;
  let lastAccepted = 0;
  let lastElapsed = 0;
  let next = 0;
  const report = () => {
    stats.inFlight = inFlight.size;
    stats.elapsedMs = performance.now() - started;
    stats.ratePerSecond = stats.accepted / Math.max(stats.elapsedMs / 1000, 0.001);
    const interval = Math.max((stats.elapsedMs - lastElapsed) / 1000, 0.001);
    stats.recentPerSecond = (stats.accepted - lastAccepted) / interval;
    [lastAccepted, lastElapsed] = [stats.accepted, stats.elapsedMs];
    const sorted = [...latencies].sort((a, b) => a - b);
    stats.p50Ms = quantile(sorted, 0.5);
    stats.p99Ms = quantile(sorted, 0.99);
    options.onProgress?.({ ...stats });
  };

  while (!options.signal?.aborted) {
    const nowPerf = performance.now();
    const elapsed = nowPerf - started;
    if (options.durationMs !== undefined && elapsed >= options.durationMs) break;
    const due = Math.floor((options.rate * elapsed) / 1000) - produced;
    const wallNow = Date.now();
    for (let i = 0; i < due; i++) {
      const lane = lanes[next] as (typeof lanes)[number];
      next = (next + 1) % lanes.length;
      if (lane.buffer.length === 0) lane.oldestAt = nowPerf;
      lane.buffer.push(lane.stream.next(wallNow));
      produced++;
      if (lane.buffer.length >= batchSize) {
        // Back-pressure: never more than `concurrency` requests at once; production pauses meanwhile.
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        dispatch(lane);
      }
    }
    for (const lane of lanes) {
      if (lane.buffer.length > 0 && nowPerf - lane.oldestAt >= flushMs && inFlight.size < concurrency)
        dispatch(lane);
    }
    if (nowPerf - lastReport >= 1000) {
      lastReport = nowPerf;
      report();
    }
    await sleep(10);
  }
  for (const lane of lanes) if (lane.buffer.length > 0) dispatch(lane);
  await Promise.all(inFlight);
  report();
  return { ...stats };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) * 10) / 10;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One progress line: sent, accepted, rate, errors, in flight, latency. */
export function progressLine(stats: GeneratorStats): string {
  const n = (value: number) => Math.round(value).toLocaleString("en-US");
  const errors = stats.rejected + stats.failed;
  return [
    `${(stats.elapsedMs / 1000).toFixed(0).padStart(4)} s`,
    `sent ${n(stats.sent)}`,
    `accepted ${n(stats.accepted)}`,
    `rate ${n(stats.recentPerSecond)}/s (avg ${n(stats.ratePerSecond)}/s)`,
    `errors ${n(errors)}${stats.throttled ? ` (429 x${stats.throttled})` : ""}`,
    `in flight ${stats.inFlight}`,
    `p50 ${stats.p50Ms} ms p99 ${stats.p99Ms} ms`,
  ].join("  ");
}

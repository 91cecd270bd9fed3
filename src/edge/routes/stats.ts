// Monitoring at the edge, read from what Fairway records in Redis (src/domain/monitoring/):
// GET /v1/stats — the caller's own tenant: its queues per actor, semaphore, cache hit ratio, query latency;
// GET /metrics — every tenant, in Prometheus text format, behind the operator token.
// It also times `POST /v1/queries` and notes its cache outcome, so it must be registered before that route.
import type { Context, Hono, MiddlewareHandler } from "hono";
import { readAlerts } from "../../domain/monitoring/alerts.ts";
import { collectSnapshot } from "../../domain/monitoring/collect.ts";
import { observedPublisher } from "../../domain/monitoring/observed-publisher.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../../domain/monitoring/prometheus.ts";
import { QueryMeter } from "../../domain/monitoring/query-meter.ts";
import type { CacheOutcome, MonitorScope } from "../../domain/monitoring/recorder.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { operatorAuth } from "../middleware/operator-auth.ts";
import { redisReply, tenantAuth } from "../middleware/tenant-auth.ts";

export function registerStats(app: Hono<EdgeEnv>, services: EdgeServices, scope: MonitorScope = {}): void {
  app.use("/v1/queries", observeQueries(services, scope));

  app.get("/v1/stats", tenantAuth(services), async (c) => {
    const tenantId = c.get("tenant").id;
    const snapshot = await redisReply(collectSnapshot(services.redis, { ...scope, tenants: [tenantId] }));
    const tenant = snapshot.tenants[0];
    return c.json({
      tenantId,
      at: new Date(snapshot.at).toISOString(),
      queues: snapshot.lanes.map(({ tenantId: _, ...lane }) => lane),
      semaphore: tenant?.semaphore ?? { held: 0, limit: c.get("tenant").concurrencyLimit },
      laneWaiting: tenant?.laneWaiting ?? 0,
      cache: tenant?.cache ?? { hits: 0, misses: 0, stale: 0, hitRatio: null },
      queryLatencyMs: tenant?.queryMs ?? { count: 0, p50: null, p95: null, p99: null },
      importsFailedLastHour: tenant?.importsFailed ?? 0,
      brokerCheckedAt: snapshot.broker ? new Date(snapshot.broker.checkedAt).toISOString() : null,
      window:
        "per-minute figures are the last complete minute; percentiles and the cache ratio cover it and this one",
    });
  });

  app.get("/metrics", operatorAuth(services), async (c) => {
    const [snapshot, alerts] = await redisReply(
      Promise.all([
        collectSnapshot(services.redis, { ...scope, includeTotals: true }),
        readAlerts(services.redis, scope),
      ]),
    );
    c.header("Content-Type", PROMETHEUS_CONTENT_TYPE);
    return c.body(renderPrometheus(snapshot, alerts));
  });
}

/** The services with a publisher that records each message as pending for its actor and tenant. */
export function monitoredServices(services: EdgeServices, scope: MonitorScope = {}): EdgeServices {
  if (!services.publisher) return services;
  return { ...services, publisher: observedPublisher(services.publisher, services.redis, scope) };
}

// One meter per services object (per isolate), like the rate limiter.
const meters = new WeakMap<EdgeServices, QueryMeter>();

/** The meter counting this services object's query answers (tests flush it). */
export function queryMeterFor(services: EdgeServices, scope: MonitorScope = {}): QueryMeter {
  let meter = meters.get(services);
  if (!meter) {
    meter = new QueryMeter(services.redis, scope);
    meters.set(services, meter);
  }
  return meter;
}

/**
 * Times each authenticated `POST /v1/queries` and counts its cache outcome (read from the answer's meta); the
 * counts reach Redis once a second, never on the request's own round trip.
 */
export function observeQueries(services: EdgeServices, scope: MonitorScope = {}): MiddlewareHandler<EdgeEnv> {
  const meter = queryMeterFor(services, scope);
  return async function queryObserverMiddleware(c, next) {
    const started = Date.now();
    await next();
    if (c.req.method !== "POST") return;
    const tenant = c.get("tenant");
    if (!tenant) return;
    const cache = cacheOutcomeOf(c);
    if (cache === undefined) return;
    const flush = meter.add(tenant.id, cache, Date.now() - started);
    if (flush) defer(c, flush);
  };
}

function cacheOutcomeOf(c: Context<EdgeEnv>): CacheOutcome | undefined {
  const status = c.res.status;
  if (status === 202) return "pending";
  if (status === 422) return "error";
  return status === 200 ? c.get("cacheOutcome") : undefined;
}

/** Lets Workers finish the record after the answer is sent; elsewhere the promise simply runs on. */
function defer(c: Context<EdgeEnv>, work: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // No execution context (Bun, Deno): nothing to extend.
  }
}

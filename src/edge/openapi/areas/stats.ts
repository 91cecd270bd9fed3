// Monitoring in the OpenAPI document: the tenant's own stats, and every tenant's as Prometheus text.
import { z } from "zod";
import { PROMETHEUS_CONTENT_TYPE } from "../../../domain/monitoring/prometheus.ts";
import { type DocArea, OPERATOR_ERRORS, TENANT_ERRORS } from "../document.ts";

const percentiles = z.object({
  count: z.number().int(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});

const minuteCounts = z.object({
  published: z.number().int(),
  deliveries: z.number().int(),
  failures: z.number().int(),
  ok: z.number().int(),
  retry: z.number().int(),
  fail: z.number().int(),
  later: z.number().int(),
  error: z.number().int(),
});

export const tenantStats = z.object({
  tenantId: z.string(),
  at: z.string().meta({ format: "date-time" }),
  queues: z
    .array(
      z.object({
        actor: z.string(),
        depth: z.number().int().meta({ description: "Published and not finished" }),
        oldestAgeSeconds: z.number().nullable(),
        inFlight: z.number().int(),
        dlq: z.number().int().meta({ description: "In the dead-letter queue, as of `brokerCheckedAt`" }),
        lastMinute: minuteCounts,
        handlerMs: percentiles,
        queueMs: percentiles,
      }),
    )
    .meta({ description: "One per actor" }),
  semaphore: z.object({ held: z.number().int(), limit: z.number().int().nullable() }),
  laneWaiting: z.number().int().meta({ description: "Queries waiting for a permit" }),
  cache: z.object({
    hits: z.number().int(),
    misses: z.number().int(),
    stale: z.number().int(),
    hitRatio: z.number().nullable(),
  }),
  queryLatencyMs: percentiles,
  importsFailedLastHour: z.number().int(),
  brokerCheckedAt: z.string().meta({ format: "date-time" }).nullable(),
  window: z.string(),
});

export const statsDocs: DocArea = {
  components: { TenantStats: tenantStats },
  operations: [
    {
      method: "get",
      path: "/v1/stats",
      summary: "The tenant's queues, query permits, cache hit ratio and query latency",
      tags: ["operations"],
      security: "tenant",
      responses: { 200: { description: "The tenant's figures", schema: "TenantStats" }, ...TENANT_ERRORS },
    },
    {
      method: "get",
      path: "/metrics",
      summary: "Every tenant's figures and the alerts, in Prometheus text format",
      tags: ["operations"],
      security: "operator",
      responses: {
        200: { description: "Prometheus exposition", mediaType: PROMETHEUS_CONTENT_TYPE },
        ...OPERATOR_ERRORS,
        503: { description: "No operator token configured, or Redis did not answer", schema: "Error" },
      },
    },
  ],
};

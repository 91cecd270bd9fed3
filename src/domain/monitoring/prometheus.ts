// A snapshot in the Prometheus text exposition format (version 0.0.4).

import type { AlertState } from "./alerts.ts";
import type { Snapshot } from "./collect.ts";
import type { Percentiles } from "./histogram.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

/** Samples grouped by metric family: the format wants each family's lines together, after its HELP and TYPE. */
class Exposition {
  private readonly families = new Map<string, string[]>();

  metric(name: string, type: "gauge" | "counter", help: string, labels: Labels, value: number | null): void {
    if (value === null || !Number.isFinite(value)) return;
    let lines = this.families.get(name);
    if (!lines) {
      lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
      this.families.set(name, lines);
    }
    lines.push(`${name}${renderLabels(labels)} ${value}`);
  }

  quantiles(name: string, help: string, labels: Labels, values: Percentiles): void {
    for (const [quantile, value] of [
      ["0.5", values.p50],
      ["0.95", values.p95],
      ["0.99", values.p99],
    ] as const) {
      this.metric(name, "gauge", help, { ...labels, quantile }, value);
    }
  }

  text(): string {
    return `${[...this.families.values()].flat().join("\n")}\n`;
  }
}

/**
 * Lanes are labelled `actor` and `tenant`; counters (`_total`) come from the lifetime totals when the snapshot
 * has them. Per-minute figures are the last complete minute; percentiles cover this minute and the last.
 */
export function renderPrometheus(
  snapshot: Snapshot,
  alerts: ReadonlyMap<string, AlertState> = new Map(),
): string {
  const out = new Exposition();
  for (const lane of snapshot.lanes) {
    const labels = { actor: lane.actor, tenant: lane.tenantId };
    out.metric(
      "fairway_queue_depth",
      "gauge",
      "Messages published to the actor and not finished.",
      labels,
      lane.depth,
    );
    out.metric(
      "fairway_queue_oldest_age_seconds",
      "gauge",
      "Age of the oldest unfinished message since it became due.",
      labels,
      lane.oldestAgeSeconds ?? 0,
    );
    out.metric("fairway_actor_in_flight", "gauge", "Deliveries being handled now.", labels, lane.inFlight);
    out.metric("fairway_dlq_messages", "gauge", "Messages in the dead-letter queue.", labels, lane.dlq);
    out.metric(
      "fairway_deliveries_per_minute",
      "gauge",
      "Deliveries in the last complete minute.",
      labels,
      lane.lastMinute.deliveries,
    );
    out.metric(
      "fairway_failures_per_minute",
      "gauge",
      "Failed deliveries (retry, dead-letter, error) in the last complete minute.",
      labels,
      lane.lastMinute.failures,
    );
    out.quantiles(
      "fairway_handler_duration_ms",
      "Handler duration of successful deliveries.",
      labels,
      lane.handlerMs,
    );
    out.quantiles(
      "fairway_queue_latency_ms",
      "From due to done, for successful deliveries.",
      labels,
      lane.queueMs,
    );
  }
  for (const tenant of snapshot.tenants) {
    const labels = { tenant: tenant.tenantId };
    out.metric(
      "fairway_tenant_semaphore_held",
      "gauge",
      "Live tenant semaphore leases.",
      labels,
      tenant.semaphore.held,
    );
    out.metric(
      "fairway_tenant_semaphore_limit",
      "gauge",
      "Tenant concurrency limit.",
      labels,
      tenant.semaphore.limit,
    );
    out.metric(
      "fairway_tenant_lane_waiting",
      "gauge",
      "Queries waiting for a permit.",
      labels,
      tenant.laneWaiting,
    );
    out.metric(
      "fairway_cache_hit_ratio",
      "gauge",
      "Share of query answers from the cache.",
      labels,
      tenant.cache.hitRatio,
    );
    out.quantiles(
      "fairway_query_latency_ms",
      "POST /v1/queries latency at the edge.",
      labels,
      tenant.queryMs,
    );
    out.metric(
      "fairway_imports_failed",
      "gauge",
      "Imports failed within the alert window.",
      labels,
      tenant.importsFailed,
    );
  }
  for (const [tenant, counters] of Object.entries(snapshot.totals ?? {})) {
    for (const [field, value] of Object.entries(counters)) {
      const [metric, subject] = field.split("|") as [string, string | undefined];
      if (subject === undefined) {
        out.metric("fairway_queries_total", "counter", "Query answers at the edge.", { tenant }, value);
      } else if (metric === "cache") {
        out.metric(
          "fairway_cache_lookups_total",
          "counter",
          "Query answers by cache outcome.",
          { tenant, outcome: subject },
          value,
        );
      } else if (metric === "imports") {
        out.metric(
          "fairway_imports_total",
          "counter",
          "Imports ended, by status.",
          { tenant, status: subject },
          value,
        );
      } else if (metric === "published") {
        out.metric(
          "fairway_published_total",
          "counter",
          "Messages published to actors.",
          { tenant, actor: subject },
          value,
        );
      } else if (["ok", "retry", "fail", "later", "error"].includes(metric)) {
        out.metric(
          "fairway_deliveries_total",
          "counter",
          "Deliveries by outcome.",
          { tenant, actor: subject, outcome: metric },
          value,
        );
      }
    }
  }
  out.metric(
    "fairway_warehouse_semaphore_held",
    "gauge",
    "Live warehouse semaphore leases.",
    {},
    snapshot.warehouse.held,
  );
  if (snapshot.broker) {
    out.metric(
      "fairway_dlq_total",
      "gauge",
      "Messages in the dead-letter queue.",
      {},
      snapshot.broker.dlqTotal,
    );
    out.metric(
      "fairway_broker_checked_age_seconds",
      "gauge",
      "Seconds since the monitor last listed the broker's dead-letter queue.",
      {},
      Math.max(0, Math.round((snapshot.at - snapshot.broker.checkedAt) / 1000)),
    );
  }
  for (const [id, state] of alerts) {
    out.metric(
      "fairway_alert_firing",
      "gauge",
      "1 while the alert fires.",
      { alert: id },
      state.firing ? 1 : 0,
    );
  }
  return out.text();
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

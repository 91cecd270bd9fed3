// The monitor's settings, read once from the environment.
import { DEFAULT_THRESHOLDS, type Thresholds } from "../../src/domain/monitoring/alerts.ts";
import { LOCAL_QSTASH } from "../config.ts";
import { type Env, readInt } from "../env.ts";

export interface MonitorConfig {
  qstash: { url: string; token: string };
  /**
   * How often the monitor runs: the actors host creates (or updates) a QStash schedule with it at start. null
   * (unset, or "off"): no schedule, e.g. in tests; `npm run dev` sets every minute, as production should.
   */
  cron: string | null;
  /** Alerts are POSTed here through QStash (retried by it); null: log lines only. */
  webhook: string | null;
  /** Delivery attempts QStash makes for each webhook call after the first. */
  webhookRetries: number;
  thresholds: Thresholds;
  /** Scopes the global monitoring keys and the schedule id (tests, benchmarks); "" in production. */
  namespace: string;
  /** Leaderboard tallies left in the warehouse outbox longer than this are applied by the monitor. */
  outboxSweepAfterSeconds: number;
}

/**
 * FAIRWAY_MONITOR_CRON (e.g. "* * * * *"; unset or "off": no schedule; six fields for seconds on the local
 * broker), FAIRWAY_ALERT_WEBHOOK, FAIRWAY_ALERT_WEBHOOK_RETRIES (5), FAIRWAY_ALERT_DEPTH (1000),
 * FAIRWAY_ALERT_AGE_SECONDS (300), FAIRWAY_ALERT_DLQ_GROWTH (1), FAIRWAY_ALERT_DLQ_WINDOW_MINUTES (15),
 * FAIRWAY_ALERT_IMPORT_FAILURES (1), FAIRWAY_ALERT_IMPORT_WINDOW_MINUTES (60), FAIRWAY_MONITOR_NAMESPACE,
 * FAIRWAY_OUTBOX_SWEEP_AFTER_SECONDS (120).
 */
export function readMonitorConfig(env: Env = process.env): MonitorConfig {
  const cron = env.FAIRWAY_MONITOR_CRON?.trim();
  return {
    qstash: {
      url: env.QSTASH_URL || "http://127.0.0.1:8081",
      token: env.QSTASH_TOKEN || LOCAL_QSTASH.token,
    },
    cron: !cron || cron === "off" ? null : cron,
    webhook: env.FAIRWAY_ALERT_WEBHOOK?.trim() || null,
    webhookRetries: readInt(env, "FAIRWAY_ALERT_WEBHOOK_RETRIES", 5, 0),
    thresholds: {
      depth: readInt(env, "FAIRWAY_ALERT_DEPTH", DEFAULT_THRESHOLDS.depth, 1),
      oldestAgeSeconds: readInt(env, "FAIRWAY_ALERT_AGE_SECONDS", DEFAULT_THRESHOLDS.oldestAgeSeconds, 1),
      dlqGrowth: readInt(env, "FAIRWAY_ALERT_DLQ_GROWTH", DEFAULT_THRESHOLDS.dlqGrowth, 1),
      dlqWindowMinutes: readInt(
        env,
        "FAIRWAY_ALERT_DLQ_WINDOW_MINUTES",
        DEFAULT_THRESHOLDS.dlqWindowMinutes,
        1,
      ),
      importFailures: readInt(env, "FAIRWAY_ALERT_IMPORT_FAILURES", DEFAULT_THRESHOLDS.importFailures, 1),
      importWindowMinutes: readInt(
        env,
        "FAIRWAY_ALERT_IMPORT_WINDOW_MINUTES",
        DEFAULT_THRESHOLDS.importWindowMinutes,
        1,
      ),
    },
    namespace: env.FAIRWAY_MONITOR_NAMESPACE?.trim() || "",
    outboxSweepAfterSeconds: readInt(env, "FAIRWAY_OUTBOX_SWEEP_AFTER_SECONDS", 120, 1),
  };
}

// Alert notifications: one structured log line per transition, and, when a webhook is configured, a POST
// through QStash (which retries it with backoff). The deduplication id names the alert, its firing number and
// the change, so however often a notification is re-sent, the webhook sees each fire and each clear once.
// A publish that fails waits in an outbox that the next run sends first.
import type { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { globalKeys } from "../../src/domain/keys.ts";
import type { AlertTransition } from "../../src/domain/monitoring/alerts.ts";
import { type MonitorScope, scopedKey } from "../../src/domain/monitoring/recorder.ts";
import type { Logger } from "../log.ts";

/** What the webhook receives (JSON). */
export interface AlertNotification {
  alert: string;
  rule: string;
  state: "firing" | "resolved";
  /** The alert's firing number: a fire and its clear share it. */
  seq: number;
  summary: string;
  value: number;
  threshold: number;
  actor?: string;
  tenantId?: string;
  at: string;
}

export interface NotifyOptions extends MonitorScope {
  client: Client;
  redis: Redis;
  log: Logger;
  webhook: string | null;
  retries: number;
}

export function notificationOf(transition: AlertTransition, now: number): AlertNotification {
  const { condition } = transition;
  return {
    alert: condition.id,
    rule: condition.rule,
    state: transition.change === "fired" ? "firing" : "resolved",
    seq: transition.seq,
    summary: condition.summary,
    value: condition.value,
    threshold: condition.threshold,
    ...(condition.actor ? { actor: condition.actor } : {}),
    ...(condition.tenantId ? { tenantId: condition.tenantId } : {}),
    at: new Date(now).toISOString(),
  };
}

/** Logs each transition and sends it to the webhook (after whatever an earlier run could not send). */
export async function notify(
  transitions: readonly AlertTransition[],
  options: NotifyOptions,
): Promise<number> {
  const now = Date.now();
  const notifications = transitions.map((transition) => notificationOf(transition, now));
  for (const notification of notifications) {
    const line = notification.state === "firing" ? "alert fired" : "alert cleared";
    options.log.warn(line, { ...notification });
  }
  if (!options.webhook) return 0;
  const outbox = `${scopedKey(globalKeys.alerts, options)}:outbox`;
  const waiting = ((await options.redis.lrange(outbox, 0, 99)) as unknown[]).map((item) =>
    typeof item === "string" ? (JSON.parse(item) as AlertNotification) : (item as AlertNotification),
  );
  let sent = 0;
  for (const notification of waiting) {
    if (await send(notification, options)) {
      await options.redis.lrem(outbox, 1, JSON.stringify(notification));
      sent++;
    }
  }
  for (const notification of notifications) {
    if (await send(notification, options)) sent++;
    else await options.redis.rpush(outbox, JSON.stringify(notification));
  }
  return sent;
}

async function send(notification: AlertNotification, options: NotifyOptions): Promise<boolean> {
  const dedup = `alert-${notification.alert}-${notification.seq}-${notification.state}`.replace(
    /[^A-Za-z0-9_.-]/g,
    "_",
  );
  try {
    await options.client.publishJSON({
      url: options.webhook as string,
      body: notification,
      deduplicationId: dedup,
      retries: options.retries,
    });
    return true;
  } catch (error) {
    options.log.error("alert webhook publish failed", {
      alert: notification.alert,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

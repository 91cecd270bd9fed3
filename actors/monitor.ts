// The monitor actor: run by a QStash schedule (every minute by default), it looks at the broker's dead-letter
// queue, reads the monitoring snapshot, judges the alert rules and announces each alert that starts or stops
// firing (a log line, and a webhook POST through QStash when configured). It also applies leaderboard tallies
// stranded in the warehouse outbox (monitor/outbox.ts). Two runs at once are harmless: the transition script
// lets each crossing through once, and each tally is applied once.
import { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { globalKeys, keys } from "../src/domain/keys.ts";
import { applyConditions, evaluateRules } from "../src/domain/monitoring/alerts.ts";
import { collectSnapshot, RUNNING_STALE_MS } from "../src/domain/monitoring/collect.ts";
import { monitorMessage } from "../src/domain/monitoring/messages.ts";
import { type MonitorScope, scopedKey } from "../src/domain/monitoring/recorder.ts";
import { defineActor } from "./define.ts";
import { dlqBaseline, lookAtBroker } from "./monitor/broker.ts";
import type { MonitorConfig } from "./monitor/config.ts";
import { notify } from "./monitor/notify.ts";
import { sweepOutbox } from "./monitor/outbox.ts";
import { ok, retry } from "./outcome.ts";

export function createMonitorActor(config: MonitorConfig) {
  const client = new Client({ baseUrl: config.qstash.url, token: config.qstash.token });
  const scope: MonitorScope = { namespace: config.namespace };
  return defineActor({
    name: "monitor",
    schema: monitorMessage,
    async handler(_message, ctx) {
      const now = Date.now();
      let baseline: number | null = null;
      try {
        const broker = await lookAtBroker(client, ctx.redis, scope, now);
        baseline = await dlqBaseline(
          ctx.redis,
          scope,
          broker.dlqTotal,
          config.thresholds.dlqWindowMinutes,
          now,
        );
      } catch (error) {
        // Without the broker the other rules still work; the DLQ rule waits for the next run.
        ctx.log.warn("broker not readable", {
          error: error instanceof Error ? error.message : String(error),
        });
      }
      let snapshot: Awaited<ReturnType<typeof collectSnapshot>>;
      try {
        snapshot = await collectSnapshot(ctx.redis, {
          ...scope,
          now,
          importFailureWindowMs: config.thresholds.importWindowMinutes * 60_000,
        });
        await tidy(ctx.redis, scope, snapshot.silent, snapshot.lanes, now);
      } catch (error) {
        return retry(`redis: ${error instanceof Error ? error.message : String(error)}`);
      }
      let outboxSwept = 0;
      try {
        outboxSwept = await sweepOutbox(ctx.db, ctx.redis, config.outboxSweepAfterSeconds * 1000, now);
      } catch (error) {
        // The rows stay in the outbox for the next run; alerts do not wait for them.
        ctx.log.warn("outbox not swept", { error: error instanceof Error ? error.message : String(error) });
      }
      const conditions = evaluateRules(snapshot, config.thresholds, baseline);
      const transitions = await applyConditions(ctx.redis, conditions, scope, now);
      const sent = await notify(transitions, {
        ...scope,
        client,
        redis: ctx.redis,
        log: ctx.log,
        webhook: config.webhook,
        retries: config.webhookRetries,
      });
      return ok({
        lanes: snapshot.lanes.length,
        tenants: snapshot.tenants.length,
        firing: conditions.filter((condition) => condition.firing).map((condition) => condition.id),
        transitions: transitions.map((transition) => `${transition.change} ${transition.condition.id}`),
        webhookSent: sent,
        outboxSwept,
      });
    },
  });
}

/** Forgets tenants with nothing recorded any more, and running entries of deliveries that died long ago. */
async function tidy(
  redis: Redis,
  scope: MonitorScope,
  silent: readonly string[],
  lanes: readonly { actor: string; tenantId: string }[],
  now: number,
): Promise<void> {
  const pipeline = redis.pipeline();
  if (silent.length > 0) pipeline.srem(scopedKey(globalKeys.monitorTenants, scope), ...silent);
  for (const lane of lanes) {
    pipeline.zremrangebyscore(keys.monitorRunning(lane.tenantId, lane.actor), "-inf", now - RUNNING_STALE_MS);
  }
  if (silent.length + lanes.length > 0) await pipeline.exec();
}

/** The id of the monitor's schedule: fixed, so creating it again updates it instead of adding another. */
export function monitorScheduleId(namespace: string): string {
  return namespace ? `fairway-monitor-${namespace}` : "fairway-monitor";
}

/** Creates (or updates) the monitor's QStash schedule; called when the actors host starts. */
export async function ensureMonitorSchedule(
  config: MonitorConfig,
  actorsUrl: string,
): Promise<string | null> {
  if (config.cron === null) return null;
  const client = new Client({ baseUrl: config.qstash.url, token: config.qstash.token });
  const { scheduleId } = await client.schedules.create({
    destination: `${actorsUrl.replace(/\/+$/, "")}/actors/monitor`,
    cron: config.cron,
    scheduleId: monitorScheduleId(config.namespace),
    body: JSON.stringify({ reason: "schedule" }),
    headers: { "Content-Type": "application/json" },
    retries: 0,
  });
  return scheduleId;
}

// Alert rules over a snapshot, and the transitions that make each alert fire once when its condition starts to
// hold and clear once when it stops (state in Redis, changed by one Lua script, so two monitors running at
// the same time still announce each crossing once).
import type { Redis } from "@upstash/redis";
import { LuaScript } from "../imports/lua-script.ts";
import { globalKeys } from "../keys.ts";
import type { Snapshot } from "./collect.ts";
import { type MonitorScope, scopedKey } from "./recorder.ts";
import { TRANSITION } from "./scripts.ts";

export interface Thresholds {
  /** A lane with at least this many pending messages. */
  depth: number;
  /** A lane whose oldest pending message has been due at least this long. */
  oldestAgeSeconds: number;
  /** The dead-letter queue grew by at least this many messages within `dlqWindowMinutes`. */
  dlqGrowth: number;
  dlqWindowMinutes: number;
  /** A tenant with at least this many failed imports within `importWindowMinutes`. */
  importFailures: number;
  importWindowMinutes: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  depth: 1000,
  oldestAgeSeconds: 300,
  dlqGrowth: 1,
  dlqWindowMinutes: 15,
  importFailures: 1,
  importWindowMinutes: 60,
};

export type AlertRule = "queue_depth" | "queue_age" | "dlq_growth" | "import_failures";

/** One rule applied to one subject: whether it holds now, and the numbers behind it. */
export interface AlertCondition {
  id: string;
  rule: AlertRule;
  firing: boolean;
  value: number;
  threshold: number;
  actor?: string;
  tenantId?: string;
  summary: string;
}

/**
 * Every condition the snapshot can judge. `dlqBaseline` is the DLQ size `dlqWindowMinutes` ago (null when
 * unknown, e.g. on the first run).
 */
export function evaluateRules(
  snapshot: Snapshot,
  thresholds: Thresholds,
  dlqBaseline: number | null,
): AlertCondition[] {
  const conditions: AlertCondition[] = [];
  for (const lane of snapshot.lanes) {
    const where = `${lane.actor} queue of tenant ${lane.tenantId}`;
    conditions.push({
      id: `queue_depth:${lane.actor}:${lane.tenantId}`,
      rule: "queue_depth",
      firing: lane.depth >= thresholds.depth,
      value: lane.depth,
      threshold: thresholds.depth,
      actor: lane.actor,
      tenantId: lane.tenantId,
      summary: `${where}: ${lane.depth} messages waiting (threshold ${thresholds.depth})`,
    });
    const age = lane.oldestAgeSeconds ?? 0;
    conditions.push({
      id: `queue_age:${lane.actor}:${lane.tenantId}`,
      rule: "queue_age",
      firing: age >= thresholds.oldestAgeSeconds,
      value: age,
      threshold: thresholds.oldestAgeSeconds,
      actor: lane.actor,
      tenantId: lane.tenantId,
      summary: `${where}: oldest message waiting ${Math.round(age)} s (threshold ${thresholds.oldestAgeSeconds} s)`,
    });
  }
  if (snapshot.broker && dlqBaseline !== null) {
    const growth = snapshot.broker.dlqTotal - dlqBaseline;
    conditions.push({
      id: "dlq_growth",
      rule: "dlq_growth",
      firing: growth >= thresholds.dlqGrowth,
      value: growth,
      threshold: thresholds.dlqGrowth,
      summary:
        `dead-letter queue grew by ${growth} in ${thresholds.dlqWindowMinutes} min ` +
        `(now ${snapshot.broker.dlqTotal}; threshold ${thresholds.dlqGrowth})`,
    });
  }
  for (const tenant of snapshot.tenants) {
    conditions.push({
      id: `import_failures:${tenant.tenantId}`,
      rule: "import_failures",
      firing: tenant.importsFailed >= thresholds.importFailures,
      value: tenant.importsFailed,
      threshold: thresholds.importFailures,
      tenantId: tenant.tenantId,
      summary:
        `tenant ${tenant.tenantId}: ${tenant.importsFailed} import(s) failed in the last ` +
        `${thresholds.importWindowMinutes} min (threshold ${thresholds.importFailures})`,
    });
  }
  return conditions;
}

export interface AlertState {
  firing: boolean;
  seq: number;
  since: number;
  clearedAt?: number;
  details?: Partial<AlertCondition>;
}

export interface AlertTransition {
  change: "fired" | "cleared";
  /** Numbers the alert's firings; a fire and its clear share it. */
  seq: number;
  condition: AlertCondition;
}

export type AlertRedis = Pick<Redis, "evalsha" | "eval" | "hgetall">;

const transition = new LuaScript(TRANSITION);

/** Every alert's state (firing or cleared), by id. */
export async function readAlerts(
  redis: AlertRedis,
  scope: MonitorScope = {},
): Promise<Map<string, AlertState>> {
  const hash = (await redis.hgetall(scopedKey(globalKeys.alerts, scope))) ?? {};
  const states = new Map<string, AlertState>();
  for (const [id, value] of Object.entries(hash)) {
    let state = value;
    if (typeof state === "string") {
      try {
        state = JSON.parse(state);
      } catch {
        continue;
      }
    }
    if (state && typeof state === "object") states.set(id, state as AlertState);
  }
  return states;
}

/**
 * Applies the conditions: an alert fires when its condition holds and it was not firing; it clears when it
 * was firing and its condition no longer holds, or its subject is gone from the snapshot (a drained queue).
 */
export async function applyConditions(
  redis: AlertRedis,
  conditions: readonly AlertCondition[],
  scope: MonitorScope = {},
  now = Date.now(),
): Promise<AlertTransition[]> {
  const known = await readAlerts(redis, scope);
  const byId = new Map(conditions.map((condition) => [condition.id, condition]));
  for (const [id, state] of known) {
    if (!state.firing || byId.has(id)) continue;
    const details = state.details ?? {};
    byId.set(id, {
      id,
      rule: (details.rule ?? "queue_depth") as AlertRule,
      firing: false,
      value: 0,
      threshold: Number(details.threshold ?? 0),
      actor: details.actor,
      tenantId: details.tenantId,
      summary: `${details.summary ?? id} — no longer observed`,
    });
  }
  const transitions: AlertTransition[] = [];
  for (const condition of byId.values()) {
    const state = known.get(condition.id);
    // Only crossings need the script; a steady condition costs nothing.
    if (!condition.firing && !state?.firing) continue;
    if (condition.firing && state?.firing) continue;
    const [change, seq] = await transition.run<[number, number]>(
      redis,
      [scopedKey(globalKeys.alerts, scope)],
      [condition.id, condition.firing ? "1" : "0", now, JSON.stringify(condition)],
    );
    if (change !== 0) transitions.push({ change: change > 0 ? "fired" : "cleared", seq, condition });
  }
  return transitions;
}

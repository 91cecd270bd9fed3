// Live leaderboards: one Redis sorted set per tenant, metric and UTC minute (`{t:<id>}:top:<metric>:<minute>`),
// members are ad ids, scores the metric's total over the events of that minute. A window of N minutes is the
// union of N minute sets. Scores are exact integers: counts, and spend in micro-units (numeric(18, 6)).

export const LEADERBOARD_METRICS = ["clicks", "impressions", "conversions", "spend"] as const;
export type LeaderboardMetric = (typeof LEADERBOARD_METRICS)[number];

/** Spend is kept in millionths, so scores stay integers and sums stay exact. */
export const SPEND_SCALE = 1_000_000;

/** A minute's sets live this long after the minute ends: twice the longest window, so late events still count. */
export const LEADERBOARD_RETENTION_SECONDS = 2 * 3600;

export const MAX_WINDOW_MINUTES = 60;
export const MAX_TOP_LIMIT = 100;
export const DEFAULT_TOP_LIMIT = 100;

/** Minutes since the epoch, UTC: the bucket an instant falls in. */
export function epochMinute(ms: number): number {
  return Math.floor(ms / 60_000);
}

/** When a minute's sets expire (unix seconds): a fixed instant, so every writer sets the same expiry. */
export function minuteExpiresAt(minute: number): number {
  return (minute + 1) * 60 + LEADERBOARD_RETENTION_SECONDS;
}

/** The first minute whose sets still exist at `now`; older events are not added to any leaderboard. */
export function oldestLiveMinute(now: number): number {
  return Math.floor(now / 1000 / 60) - Math.floor(LEADERBOARD_RETENTION_SECONDS / 60);
}

/**
 * The minutes a window covers, oldest first: the current minute and the `minutes - 1` before it (as
 * `last N minutes` in the query language: the current, partial minute counts as one).
 */
export function windowMinutes(now: number, minutes: number): number[] {
  const current = epochMinute(now);
  return Array.from({ length: minutes }, (_, i) => current - minutes + 1 + i);
}

/** The metric's value for a sorted-set score: spend back in currency units, counts as they are. */
export function scoreToValue(metric: LeaderboardMetric, score: number): number {
  return metric === "spend" ? score / SPEND_SCALE : score;
}

/** What one batch adds to one minute for one ad, as the warehouse tallies its newly inserted events. */
export interface MinuteAdTally {
  minute: number;
  ad: string;
  clicks: number;
  impressions: number;
  conversions: number;
  /** Spend in millionths. */
  spendMicros: number;
}

/** A tally row as the warehouse returns and stores it: `[minute, ad, clicks, impressions, conversions, spendMicros]`. */
export type TallyTuple = readonly [number, string, number, number, number, number];

export function tallyFromTuples(rows: readonly TallyTuple[]): MinuteAdTally[] {
  return rows.map(([minute, ad, clicks, impressions, conversions, spendMicros]) => ({
    minute: Number(minute),
    ad: String(ad),
    clicks: Number(clicks),
    impressions: Number(impressions),
    conversions: Number(conversions),
    spendMicros: Number(spendMicros),
  }));
}

/** Increments for one sorted set: `[ad, amount]` pairs, zero amounts left out. */
export interface SetIncrements {
  metric: LeaderboardMetric;
  minute: number;
  increments: [string, number][];
}

/** Groups a tally by sorted set (metric and minute), dropping zeros, in a stable order. */
export function incrementsOf(tally: readonly MinuteAdTally[]): SetIncrements[] {
  const sets = new Map<string, SetIncrements>();
  for (const row of tally) {
    for (const metric of LEADERBOARD_METRICS) {
      const amount = metric === "spend" ? row.spendMicros : row[metric];
      if (amount === 0) continue;
      const id = `${metric}:${row.minute}`;
      let set = sets.get(id);
      if (!set) {
        set = { metric, minute: row.minute, increments: [] };
        sets.set(id, set);
      }
      set.increments.push([row.ad, amount]);
    }
  }
  return [...sets.values()].sort((a, b) => a.minute - b.minute || a.metric.localeCompare(b.metric));
}

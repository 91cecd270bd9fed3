import type { EdgeServices } from "../context.ts";

export interface InfluencerSettings {
  /**
   * Shortest polling interval a tenant may ask for. 60 s in production (a provider's rate limits, and QStash
   * schedules to the second); the dev stack sets 1 (INFLUENCER_MIN_INTERVAL_SECONDS).
   */
  minIntervalSeconds: number;
  /** Interval when a registration gives none. */
  defaultIntervalSeconds: number;
  /** See `TickPrecisionMs` (src/domain/influencers/schedule.ts): must match the actors' setting. */
  tickPrecisionMs: number;
  /**
   * Most ids in one POST /v1/influencers. Each new loop's first tick is one publish (one subrequest on
   * Workers, which allows 1000 per request on paid plans), so a request stays well inside that.
   */
  maxIdsPerRequest: number;
  /** How long a metrics read may take at the actors host. */
  metricsTimeoutMs: number;
}

export const DEFAULT_INFLUENCER_SETTINGS: InfluencerSettings = {
  minIntervalSeconds: 60,
  defaultIntervalSeconds: 60,
  tickPrecisionMs: 1000,
  maxIdsPerRequest: 500,
  metricsTimeoutMs: 10_000,
};

/** The longest interval anyone may ask for: a day. */
export const MAX_INTERVAL_SECONDS = 86_400;

export function influencerSettings(services: EdgeServices): InfluencerSettings {
  const given = Object.fromEntries(
    Object.entries(services.influencers ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<InfluencerSettings>;
  const settings = { ...DEFAULT_INFLUENCER_SETTINGS, ...given };
  // A default below the minimum would make every registration without an interval fail.
  settings.defaultIntervalSeconds = Math.max(settings.defaultIntervalSeconds, settings.minIntervalSeconds);
  return settings;
}

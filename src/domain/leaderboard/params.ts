// Query parameters of the live endpoints, parsed with errors that name the parameter.
import {
  DEFAULT_TOP_LIMIT,
  LEADERBOARD_METRICS,
  type LeaderboardMetric,
  MAX_TOP_LIMIT,
  MAX_WINDOW_MINUTES,
} from "./metrics.ts";

export interface ParamProblem {
  field: string;
  message: string;
}

export type ParamParse<T> = { ok: true; value: T } | ({ ok: false } & ParamProblem);

const WINDOW = /^(\d{1,4})(m|min|h)?$/;

/** `window`: `5m`, `5` (minutes) or `1h`; 1 to 60 minutes; absent means 1 minute. */
export function parseWindow(raw: string | undefined): ParamParse<number> {
  if (raw === undefined || raw === "") return { ok: true, value: 1 };
  const match = WINDOW.exec(raw.trim());
  const minutes = match ? Number(match[1]) * (match[2] === "h" ? 60 : 1) : Number.NaN;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_WINDOW_MINUTES) {
    return {
      ok: false,
      field: "window",
      message: `must be 1m to ${MAX_WINDOW_MINUTES}m (minutes, e.g. 5m, or 1h); got ${JSON.stringify(raw)}`,
    };
  }
  return { ok: true, value: minutes };
}

/** `metric`: clicks (default), impressions, conversions or spend. */
export function parseMetric(raw: string | undefined): ParamParse<LeaderboardMetric> {
  if (raw === undefined || raw === "") return { ok: true, value: "clicks" };
  if ((LEADERBOARD_METRICS as readonly string[]).includes(raw)) {
    return { ok: true, value: raw as LeaderboardMetric };
  }
  return { ok: false, field: "metric", message: `must be one of ${LEADERBOARD_METRICS.join(", ")}` };
}

/** `limit`: 1 to 100, default 100. */
export function parseLimit(raw: string | undefined): ParamParse<number> {
  if (raw === undefined || raw === "") return { ok: true, value: DEFAULT_TOP_LIMIT };
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TOP_LIMIT) {
    return { ok: false, field: "limit", message: `must be an integer from 1 to ${MAX_TOP_LIMIT}` };
  }
  return { ok: true, value: limit };
}

import { parseDuration } from "./duration.ts";

/** The limits of one flow-control key; an absent field is unlimited. */
export interface FlowControlLimits {
  /** Most deliveries in flight at once. */
  parallelism?: number;
  /** Most delivery starts per `periodMs` (fixed window). */
  rate?: number;
  periodMs: number;
}

export type FlowControlParse = { ok: true; limits: FlowControlLimits } | { ok: false; error: string };

/**
 * Parses `Upstash-Flow-Control-Value`: `parallelism=2, rate=10, period=1m` in any order and spacing.
 * `period` is a duration (`1m`, `30s`) or seconds; it defaults to one second.
 */
export function parseFlowControlValue(text: string): FlowControlParse {
  const limits: FlowControlLimits = { periodMs: 1000 };
  const parts = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  if (parts.length === 0)
    return { ok: false, error: "expected parallelism=<n>, rate=<n> or period=<duration>" };
  for (const part of parts) {
    const [rawName, rawValue, ...extra] = part.split("=").map((piece) => piece.trim());
    const name = rawName?.toLowerCase();
    if (rawValue === undefined || rawValue === "" || extra.length > 0) {
      return { ok: false, error: `"${part}" is not name=value` };
    }
    if (name === "period") {
      const ms = parseDuration(rawValue);
      if (ms === undefined || ms <= 0)
        return { ok: false, error: `period "${rawValue}" is not a positive duration` };
      limits.periodMs = ms;
    } else if (name === "parallelism" || name === "rate" || name === "ratepersecond") {
      const value = Number(rawValue);
      if (!Number.isInteger(value) || value <= 0) {
        return { ok: false, error: `${rawName} "${rawValue}" is not a positive integer` };
      }
      if (name === "parallelism") limits.parallelism = value;
      else limits.rate = value;
    } else {
      return { ok: false, error: `unknown setting "${rawName}"` };
    }
  }
  if (limits.parallelism === undefined && limits.rate === undefined) {
    return { ok: false, error: "set parallelism or rate" };
  }
  return { ok: true, limits };
}

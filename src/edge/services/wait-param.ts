import { ApiError } from "../errors.ts";

/**
 * `?wait=` → milliseconds: `2s`, `1500ms`, or a bare number of seconds (`2`, `0.5`); absent → the default.
 * Anything else, or more than `maxMs`, is a 400 naming the parameter.
 */
export function parseWait(raw: string | undefined, defaultMs: number, maxMs: number): number {
  if (raw === undefined || raw === "") return defaultMs;
  const match = /^(\d{1,6}(?:\.\d{1,3})?)(ms|s)?$/.exec(raw.trim());
  const ms = match ? Math.round(Number(match[1]) * (match[2] === "ms" ? 1 : 1000)) : Number.NaN;
  if (!Number.isFinite(ms) || ms > maxMs) {
    throw new ApiError(
      400,
      "invalid_parameter",
      `wait: expected a duration from 0s to ${maxMs / 1000}s, e.g. 2s or 500ms`,
      {
        fields: [
          { field: "wait", message: `expected a duration from 0s to ${maxMs / 1000}s, e.g. 2s or 500ms` },
        ],
      },
    );
  }
  return ms;
}

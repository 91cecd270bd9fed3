// The checks of one event field each: the normalised value, or the problem with it. `checkFields` (validate.ts)
// runs them in order, on an event object or, for the CSV import, on a row's values directly.
import {
  DEFAULT_TIME_WINDOW,
  EVENT_KINDS,
  type EventKind,
  MONEY_PATTERN,
  TEXT_LIMITS,
  type TextField,
  TIME_LIMITS,
  type TimeWindow,
} from "./fields.ts";
import { normalisedTimestampMs, parseTimestamp } from "./timestamp.ts";

export interface FieldProblem {
  ok: false;
  field: string;
  message: string;
}

/** What the time checks need of the rules: the instant the window is measured from, and the window. */
export interface TimeRules {
  now: number;
  window?: TimeWindow;
}

const KINDS = new Set<string>(EVENT_KINDS);
const COUNTRY = /^[A-Za-z]{2}$/;
/** Money text that MONEY_PATTERN accepts and that canonicalisation would leave unchanged. */
const CANONICAL_MONEY = /^(?:0|[1-9]\d{0,11})(?:\.\d{0,5}[1-9])?$/;

export function problem(field: string, message: string): FieldProblem {
  return { ok: false, field, message };
}

export function eventId(value: unknown): string | FieldProblem {
  // Integer ids are common in upstream systems; they are stored as their decimal text.
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return text("id", value);
}

export function text(field: TextField, value: unknown): string | FieldProblem {
  if (typeof value !== "string") return problem(field, "must be a string");
  if (value.length === 0) return problem(field, "must not be empty");
  if (value.length > TEXT_LIMITS[field])
    return problem(field, `must be at most ${TEXT_LIMITS[field]} characters`);
  if (hasControlCharacter(value)) return problem(field, "must not contain control characters");
  return value;
}

/** U+0000–U+001F or U+007F anywhere: a loop over code units, cheaper than a regular expression per value. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 32 || code === 127) return true;
  }
  return false;
}

/** A known kind, or undefined. */
export function eventKind(value: unknown): EventKind | undefined {
  return typeof value === "string" && KINDS.has(value) ? (value as EventKind) : undefined;
}

/** The country in upper case, or undefined when it is not two letters. */
export function countryCode(value: unknown): string | undefined {
  return typeof value === "string" && COUNTRY.test(value) ? value.toUpperCase() : undefined;
}

/** The event time as UTC ISO 8601, or why it is refused (malformed, outside 1970–2100, or outside the window). */
export function eventTime(value: unknown, rules: TimeRules): string | FieldProblem {
  // A time already in the normalised form is read directly and is its own output.
  const normalisedMs = typeof value === "string" ? normalisedTimestampMs(value) : undefined;
  let ms: number;
  if (normalisedMs !== undefined) ms = normalisedMs;
  else {
    const parsed = parseTimestamp(value);
    if (!parsed.ok) return problem("ts", parsed.message);
    ms = parsed.ms;
  }
  if (ms < TIME_LIMITS.from || ms >= TIME_LIMITS.to) {
    return problem("ts", "must be between 1970-01-01 and 2100-01-01");
  }
  const window = rules.window ?? DEFAULT_TIME_WINDOW;
  if (ms > rules.now + window.maxFutureMs) {
    return problem(
      "ts",
      `is more than ${describe(window.maxFutureMs)} in the future (check the clock and the offset)`,
    );
  }
  if (ms < rules.now - window.maxAgeMs) {
    const looksLikeSeconds = Math.abs(ms * 1000 - rules.now) <= window.maxAgeMs;
    const hint = looksLikeSeconds ? " (epoch seconds? send milliseconds)" : "";
    return problem(
      "ts",
      `is more than ${describe(window.maxAgeMs)} old${hint}; use a bulk import for history`,
    );
  }
  return normalisedMs !== undefined ? (value as string) : new Date(ms).toISOString();
}

/** Canonical decimal text: "1.50" and 1.5 both become "1.5"; absent or empty is "0". */
export function money(field: "cost" | "revenue", value: unknown): string | FieldProblem {
  if (value === undefined || value === null || value === "") return "0";
  let textValue: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return problem(field, "must be a finite number");
    textValue = String(value);
  } else if (typeof value === "string") {
    textValue = value;
  } else {
    return problem(field, "must be a number or a decimal string");
  }
  // Already canonical (no leading zeros, no trailing fraction zeros, within the digit limits): as it is.
  if (CANONICAL_MONEY.test(textValue)) return textValue;
  if (textValue.startsWith("-")) return problem(field, "must not be negative");
  if (!MONEY_PATTERN.test(textValue)) {
    return problem(field, "must be a decimal with at most 12 digits before the point and 6 after");
  }
  const [whole, fraction = ""] = textValue.split(".") as [string, string?];
  const canonicalWhole = whole.replace(/^0+(?=\d)/, "");
  const canonicalFraction = fraction.replace(/0+$/, "");
  return canonicalFraction === "" ? canonicalWhole : `${canonicalWhole}.${canonicalFraction}`;
}

function describe(ms: number): string {
  const days = ms / 86_400_000;
  if (Number.isInteger(days)) return days === 1 ? "1 day" : `${days} days`;
  const hours = ms / 3_600_000;
  return Number.isInteger(hours) ? `${hours} hours` : `${Math.round(ms / 1000)} seconds`;
}

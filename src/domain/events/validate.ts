// One event in, a normalised event or the first problem out. The HTTP batch endpoint runs it on every event and
// the CSV import on every row, so both refuse the same things with the same words.
import {
  DEFAULT_TIME_WINDOW,
  EVENT_FIELDS,
  EVENT_KINDS,
  type EventField,
  type EventKind,
  type IngestEvent,
  MONEY_PATTERN,
  TEXT_LIMITS,
  type TextField,
  TIME_LIMITS,
  type TimeWindow,
} from "./fields.ts";
import { normalisedTimestampMs, parseTimestamp } from "./timestamp.ts";

export interface EventRules {
  /** The instant the time window is measured from (epoch ms); the edge passes its receive time. */
  now: number;
  window?: TimeWindow;
  /**
   * Ignore fields that are not event fields instead of refusing them. JSON callers get the strict default, so a
   * typo (`revenu`) is an error rather than lost data; a CSV import may carry columns of its own.
   */
  allowUnknownFields?: boolean;
}

export interface EventProblem {
  /** The offending field, or `event` when the value is not an object at all. */
  field: EventField | "event" | (string & {});
  message: string;
}

export type EventCheck = { ok: true; event: IngestEvent } | ({ ok: false } & EventProblem);

const KNOWN_FIELDS = new Set<string>(EVENT_FIELDS);
const KINDS = new Set<string>(EVENT_KINDS);
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const COUNTRY = /^[A-Za-z]{2}$/;
/** Money text that MONEY_PATTERN accepts and that canonicalisation would leave unchanged. */
const CANONICAL_MONEY = /^(?:0|[1-9]\d{0,11})(?:\.\d{0,5}[1-9])?$/;
const REQUIRED_FIELDS = EVENT_FIELDS.filter((field) => field !== "cost" && field !== "revenue");

/**
 * Validates and normalises one event. CSV-friendly: numbers may arrive as text, and an empty `cost` /
 * `revenue` means 0.
 *
 * @example validateEvent({id: "e1", ts: "2026-11-25T10:00:00Z", kind: "click", …}, { now: Date.now() })
 */
export function validateEvent(input: unknown, rules: EventRules): EventCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return problem("event", "must be an object with id, ts, kind, channel, campaign, ad, country, city");
  }
  const record = input as Record<string, unknown>;
  if (!rules.allowUnknownFields) {
    for (const field in record) {
      if (!KNOWN_FIELDS.has(field))
        return problem(field, `unknown field; events have ${EVENT_FIELDS.join(", ")}`);
    }
  }
  for (const field of REQUIRED_FIELDS) {
    if (record[field] === undefined || record[field] === null) return problem(field, "is required");
  }

  const id = eventId(record.id);
  if (typeof id !== "string") return id;
  const ts = eventTime(record.ts, rules);
  if (typeof ts !== "string") return ts;
  if (typeof record.kind !== "string" || !KINDS.has(record.kind)) {
    return problem("kind", `must be one of ${EVENT_KINDS.join(", ")}`);
  }
  const texts: Partial<Record<TextField, string>> = {};
  for (const field of ["channel", "campaign", "ad", "city"] as const) {
    const value = text(field, record[field]);
    if (typeof value !== "string") return value;
    texts[field] = value;
  }
  if (typeof record.country !== "string" || !COUNTRY.test(record.country)) {
    return problem("country", "must be an ISO 3166-1 alpha-2 code, two letters (e.g. US)");
  }
  const cost = money("cost", record.cost);
  if (typeof cost !== "string") return cost;
  const revenue = money("revenue", record.revenue);
  if (typeof revenue !== "string") return revenue;

  return {
    ok: true,
    event: {
      id,
      ts,
      kind: record.kind as EventKind,
      channel: texts.channel as string,
      campaign: texts.campaign as string,
      ad: texts.ad as string,
      country: record.country.toUpperCase(),
      city: texts.city as string,
      cost,
      revenue,
    },
  };
}

type Failed = { ok: false } & EventProblem;

function problem(field: string, message: string): Failed {
  return { ok: false, field, message };
}

function eventId(value: unknown): string | Failed {
  // Integer ids are common in upstream systems; they are stored as their decimal text.
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return text("id", value);
}

function text(field: TextField, value: unknown): string | Failed {
  if (typeof value !== "string") return problem(field, "must be a string");
  if (value.length === 0) return problem(field, "must not be empty");
  if (value.length > TEXT_LIMITS[field])
    return problem(field, `must be at most ${TEXT_LIMITS[field]} characters`);
  if (CONTROL_CHARACTERS.test(value)) return problem(field, "must not contain control characters");
  return value;
}

/** The event time as UTC ISO 8601, or why it is refused (malformed, outside 1970–2100, or outside the window). */
function eventTime(value: unknown, rules: EventRules): string | Failed {
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
function money(field: "cost" | "revenue", value: unknown): string | Failed {
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

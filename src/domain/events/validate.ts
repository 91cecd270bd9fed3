// One event in, a normalised event or the first problem out. The HTTP batch endpoint runs it on every event and
// the CSV import on every row, so both refuse the same things with the same words.
import { countryCode, eventId, eventKind, eventTime, money, problem, text } from "./field-checks.ts";
import { EVENT_FIELDS, EVENT_KINDS, type EventField, type IngestEvent, type TimeWindow } from "./fields.ts";

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

  return checkFields((field) => record[field], rules);
}

/**
 * The field checks, in order, on values read by `get`: the normalised event, or the first problem. The CSV
 * import reads a row's values with it directly, without an object per row.
 */
export function checkFields(get: (field: EventField) => unknown, rules: EventRules): EventCheck {
  const id = eventId(get("id"));
  if (typeof id !== "string") return id;
  const ts = eventTime(get("ts"), rules);
  if (typeof ts !== "string") return ts;
  const kind = eventKind(get("kind"));
  if (kind === undefined) return problem("kind", `must be one of ${EVENT_KINDS.join(", ")}`);
  const channel = text("channel", get("channel"));
  if (typeof channel !== "string") return channel;
  const campaign = text("campaign", get("campaign"));
  if (typeof campaign !== "string") return campaign;
  const ad = text("ad", get("ad"));
  if (typeof ad !== "string") return ad;
  const city = text("city", get("city"));
  if (typeof city !== "string") return city;
  const country = countryCode(get("country"));
  if (country === undefined) {
    return problem("country", "must be an ISO 3166-1 alpha-2 code, two letters (e.g. US)");
  }
  const cost = money("cost", get("cost"));
  if (typeof cost !== "string") return cost;
  const revenue = money("revenue", get("revenue"));
  if (typeof revenue !== "string") return revenue;

  return { ok: true, event: { id, ts, kind, channel, campaign, ad, country, city, cost, revenue } };
}

// What an ad event is: its fields, their limits, and the normalised form every later stage (the ingest actor,
// the warehouse, the CSV import) receives.

export const EVENT_KINDS = ["impression", "view", "click", "conversion"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Every field an event may carry, in the order the normalised form lists them. */
export const EVENT_FIELDS = [
  "id",
  "ts",
  "kind",
  "channel",
  "campaign",
  "ad",
  "country",
  "city",
  "cost",
  "revenue",
] as const;
export type EventField = (typeof EVENT_FIELDS)[number];

/** Most events in one `POST /v1/events` (and one ingest message). */
export const MAX_BATCH_EVENTS = 1000;

/**
 * Longest value, in UTF-16 code units, of each free-text field. Together they keep a normalised batch of
 * 1,000 events under the broker's 1 MiB message limit for ordinary text.
 */
export const TEXT_LIMITS = { id: 128, channel: 64, campaign: 128, ad: 128, city: 128 } as const;
export type TextField = keyof typeof TEXT_LIMITS;

/** Money: up to 12 integer digits and 6 decimals, the warehouse's numeric(18, 6). */
export const MONEY_PATTERN = /^\d{1,12}(\.\d{1,6})?$/;

const DAY_MS = 86_400_000;

/** No event may fall outside these, whatever the window (the query language's own bounds). */
export const TIME_LIMITS = { from: Date.UTC(1970, 0, 1), to: Date.UTC(2100, 0, 1) } as const;

/** How far from "now" an event's time may be; anything else is refused at the edge. */
export interface TimeWindow {
  /** An event may be at most this far ahead of now (clock skew, time zones gone wrong). */
  maxFutureMs: number;
  /** An event may be at most this old; older partitions are not created for live ingestion. */
  maxAgeMs: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { maxFutureMs: DAY_MS, maxAgeMs: 400 * DAY_MS };

/**
 * An event as validation leaves it: `ts` in UTC ISO 8601 with milliseconds, `country` upper case, money as
 * canonical decimal strings ("0" when absent). Its JSON is the same for the same event however it was sent.
 */
export interface IngestEvent {
  id: string;
  ts: string;
  kind: EventKind;
  channel: string;
  campaign: string;
  ad: string;
  country: string;
  city: string;
  cost: string;
  revenue: string;
}

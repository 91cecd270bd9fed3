// A batch of events as `POST /v1/events` receives it: JSON (`{events: [...]}` or a bare array) or NDJSON (one
// event per line). A batch is accepted whole or refused whole: one bad event refuses the batch, and the errors
// name each bad event by its index (`events[12].country`), whichever form it came in.
import { type IngestEvent, MAX_BATCH_EVENTS } from "./fields.ts";
import { type EventRules, validateEvent } from "./validate.ts";

export interface BatchError {
  /** `events` for the batch as a whole, else `events[<index>]` or `events[<index>].<field>`. */
  field: string;
  message: string;
}

export type BatchParse = { ok: true; events: IngestEvent[] } | { ok: false; errors: BatchError[] };

/** At most this many errors are reported; a client that gets one event wrong usually gets many wrong. */
export const MAX_BATCH_ERRORS = 20;

const COUNT_MESSAGE = `must hold 1 to ${MAX_BATCH_EVENTS} events`;

/**
 * Validates a parsed JSON body: `{events: [...]}` or `[...]`.
 *
 * @example const parsed = validateBatch(await request.json(), { now: Date.now() });
 */
export function validateBatch(body: unknown, rules: EventRules): BatchParse {
  const items = Array.isArray(body) ? body : eventsOf(body);
  if (!Array.isArray(items)) return items;
  return validateItems(items, rules);
}

/** Splits NDJSON into one value per non-blank line; a line that is not JSON is an error naming its event. */
export function parseNdjson(
  text: string,
): { ok: true; items: unknown[] } | { ok: false; errors: BatchError[] } {
  const lines = text.split("\n");
  const items: unknown[] = [];
  for (let line = 0; line < lines.length; line++) {
    const content = (lines[line] as string).trim();
    if (content === "") continue;
    if (items.length === MAX_BATCH_EVENTS) return refuse("events", `${COUNT_MESSAGE}; got more`);
    try {
      items.push(JSON.parse(content));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return refuse(`events[${items.length}]`, `line ${line + 1} is not valid JSON: ${detail}`);
    }
  }
  return { ok: true, items };
}

/** Validates NDJSON text (`application/x-ndjson`). */
export function validateNdjsonBatch(text: string, rules: EventRules): BatchParse {
  const parsed = parseNdjson(text);
  return parsed.ok ? validateItems(parsed.items, rules) : parsed;
}

function eventsOf(body: unknown): unknown[] | { ok: false; errors: BatchError[] } {
  if (typeof body !== "object" || body === null) {
    return refuse("events", 'send {"events": [...]}, a JSON array of events, or NDJSON');
  }
  const record = body as Record<string, unknown>;
  for (const key in record) {
    if (key !== "events") return refuse(key, 'unknown field; the body has only "events"');
  }
  if (!Array.isArray(record.events)) return refuse("events", `is required: an array that ${COUNT_MESSAGE}`);
  return record.events;
}

function validateItems(items: readonly unknown[], rules: EventRules): BatchParse {
  if (items.length === 0 || items.length > MAX_BATCH_EVENTS) {
    return refuse("events", `${COUNT_MESSAGE}; got ${items.length}`);
  }
  const events: IngestEvent[] = [];
  const errors: BatchError[] = [];
  for (let index = 0; index < items.length; index++) {
    const check = validateEvent(items[index], rules);
    if (check.ok) {
      events.push(check.event);
      continue;
    }
    const field = check.field === "event" ? `events[${index}]` : `events[${index}]${member(check.field)}`;
    errors.push({ field, message: check.message });
    if (errors.length === MAX_BATCH_ERRORS) break;
  }
  return errors.length === 0 ? { ok: true, events } : { ok: false, errors };
}

/** `.country`, or `["odd key"]` for a key that is not a plain identifier. */
function member(field: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) return `.${field}`;
  return `[${JSON.stringify(field.length > 64 ? `${field.slice(0, 64)}…` : field)}]`;
}

function refuse(field: string, message: string): { ok: false; errors: BatchError[] } {
  return { ok: false, errors: [{ field, message }] };
}

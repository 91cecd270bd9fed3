// One CSV row to one event, with the same checks (and words) as `POST /v1/events`: required fields, types, ISO
// 8601 or epoch-millisecond times, known kinds, non-negative money, ISO 3166-1 alpha-2 countries. A row
// without an id gets one from the import id and its line number, so a redelivered chunk or a re-uploaded file
// stores nothing twice.
import { EVENT_FIELDS, type EventField, type IngestEvent, type TimeWindow } from "../events/fields.ts";
import { checkFields, type EventRules, validateEvent } from "../events/validate.ts";
import type { ImportRow, RowReject } from "./messages.ts";

const DAY_MS = 86_400_000;

/** Imports carry history: events up to five years old are accepted (live ingestion takes 400 days). */
export const IMPORT_TIME_WINDOW: TimeWindow = { maxFutureMs: DAY_MS, maxAgeMs: 5 * 366 * DAY_MS };

export interface RowColumns {
  field: EventField;
  header: string;
}

export interface CheckedRows {
  events: IngestEvent[];
  rejects: RowReject[];
}

/** The id a row without one gets: stable for the same import and line. */
export function generatedEventId(importId: string, line: number): string {
  return `imp:${importId}:${line}`;
}

/**
 * Validates and normalises a chunk's rows. `now` anchors the time window (the chunk's first delivery time is
 * not known, so a redelivery much later could judge a borderline row differently; the window is wide).
 *
 * @example const { events, rejects } = checkRows("imp_1", columns, rows, Date.now());
 */
export function checkRows(
  importId: string,
  columns: readonly RowColumns[],
  rows: readonly ImportRow[],
  now: number,
): CheckedRows {
  const events: IngestEvent[] = [];
  const rejects: RowReject[] = [];
  const rules: EventRules = { now, window: IMPORT_TIME_WINDOW, allowUnknownFields: true };
  const at = fieldPositions(columns);
  for (const row of rows) {
    const event = readEvent(importId, at, row, rules);
    if (event !== undefined) {
      events.push(event);
      continue;
    }
    const checked = checkRow(importId, columns, row, rules);
    if ("event" in checked) events.push(checked.event);
    else rejects.push(checked.reject);
  }
  return { events, rejects };
}

/** Where each field sits in a row (after its line number); -1 when no column holds it. */
type FieldPositions = Record<EventField, number>;

function fieldPositions(columns: readonly RowColumns[]): FieldPositions {
  const at = Object.fromEntries(EVENT_FIELDS.map((field) => [field, -1])) as FieldPositions;
  // A later column for the same field wins, as it would in an object built column by column.
  for (let c = 0; c < columns.length; c++) at[(columns[c] as RowColumns).field] = c + 1;
  return at;
}

/**
 * The row's event when every field passes `validateEvent`'s own checks, read straight from the row's values;
 * undefined when one fails (the caller then asks `validateEvent` which, and why).
 */
function readEvent(
  importId: string,
  at: FieldPositions,
  row: ImportRow,
  rules: EventRules,
): IngestEvent | undefined {
  const check = checkFields((field) => {
    const value = at[field] < 0 ? undefined : (row[at[field]] as string | undefined);
    if (field === "id" && (value === undefined || value.trim() === ""))
      return generatedEventId(importId, row[0]);
    return value;
  }, rules);
  return check.ok ? check.event : undefined;
}

/**
 * `validateEvent` on the row as an object: what a refused row is told is in the words of `POST /v1/events`
 * (and a row `readEvent` refused but `validateEvent` takes is taken).
 */
function checkRow(
  importId: string,
  columns: readonly RowColumns[],
  row: ImportRow,
  rules: EventRules,
): { event: IngestEvent } | { reject: RowReject } {
  const line = row[0];
  const record: Record<string, string> = {};
  for (let c = 0; c < columns.length; c++) record[(columns[c] as RowColumns).field] = row[c + 1] as string;
  if (record.id === undefined || record.id.trim() === "") record.id = generatedEventId(importId, line);
  const check = validateEvent(record, rules);
  if (check.ok) return { event: check.event };
  const column = columns.find((candidate) => candidate.field === check.field);
  const value = record[check.field];
  return {
    reject: {
      line,
      column: column?.header ?? check.field,
      reason: reasonFor(check.field, check.message, value),
      raw: rowText(row),
    },
  };
}

function reasonFor(field: string, message: string, value: string | undefined): string {
  // The live API points old events to bulk import; here they are in one already.
  const text = message.replace(/; use a bulk import for history$/, "");
  if (value === undefined || value === "" || text.includes(JSON.stringify(value))) return `${field} ${text}`;
  return `${field} ${text} (got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
}

/** The row's values as a CSV line, for the error report. */
function rowText(row: ImportRow): string {
  const text = row
    .slice(1)
    .map((value) =>
      /[",\r\n]/.test(value as string) ? `"${(value as string).replaceAll('"', '""')}"` : value,
    )
    .join(",");
  return text.length > 1024 ? text.slice(0, 1024) : text;
}

// One CSV row to one event, with the same checks (and words) as `POST /v1/events`: required fields, types, ISO
// 8601 or epoch-millisecond times, known kinds, non-negative money, ISO 3166-1 alpha-2 countries. A row
// without an id gets one from the import id and its line number, so a redelivered chunk or a re-uploaded file
// stores nothing twice.
import type { EventField, IngestEvent, TimeWindow } from "../events/fields.ts";
import { validateEvent } from "../events/validate.ts";
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
  const rules = { now, window: IMPORT_TIME_WINDOW, allowUnknownFields: true };
  for (const row of rows) {
    const line = row[0];
    const record: Record<string, string> = {};
    for (let c = 0; c < columns.length; c++) record[(columns[c] as RowColumns).field] = row[c + 1] as string;
    if (record.id === undefined || record.id.trim() === "") record.id = generatedEventId(importId, line);
    const check = validateEvent(record, rules);
    if (check.ok) {
      events.push(check.event);
      continue;
    }
    const column = columns.find((candidate) => candidate.field === check.field);
    const value = record[check.field];
    rejects.push({
      line,
      column: column?.header ?? check.field,
      reason: reasonFor(check.field, check.message, value),
      raw: rowText(row),
    });
  }
  return { events, rejects };
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

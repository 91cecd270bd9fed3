// The import's row checks read each row's values directly and fall back to `validateEvent` only to word a
// refusal: whatever the row, the outcome must be the one `validateEvent` gives the row as an object.
import { describe, expect, test } from "bun:test";
import { EVENT_FIELDS, type EventField, validateEvent } from "../../src/domain/events/index.ts";
import type { ImportRow, RowReject } from "../../src/domain/imports/messages.ts";
import {
  checkRows,
  generatedEventId,
  IMPORT_TIME_WINDOW,
  type RowColumns,
} from "../../src/domain/imports/rows.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");
const FIELDS: readonly EventField[] = EVENT_FIELDS;
const BASE = [
  "e-1",
  "2026-05-01T10:00:00.000Z",
  "click",
  "google",
  "spring",
  "ad-1",
  "US",
  "Austin",
  "1.5",
  "0",
];

/** Values each field is tried with: good ones in every form the checks read, and every way to be wrong. */
const TRIES: Record<EventField, string[]> = {
  id: ["", "   ", " e-2 ", "x".repeat(128), "x".repeat(129), "a\u0001b", "a\u007fb", "é-1", "12"],
  ts: [
    "2026-05-01T10:00:00Z",
    "2026-05-01T10:00:00.123456Z",
    "2026-05-01 10:00:00+02:00",
    "2026-05-01t10:00:00.000z",
    "1777000000000",
    "1777000000",
    "2026-05-01T10:00:00",
    "2026-02-29T00:00:00.000Z",
    "2024-02-29T00:00:00.000Z",
    "2026-06-03T00:00:00.000Z",
    "2020-01-01T00:00:00.000Z",
    "1990-01-01T00:00:00.000Z",
    "2100-01-01T00:00:00.000Z",
    "0999-12-31T23:59:59.999Z",
    "",
    "yesterday",
  ],
  kind: ["impression", "view", "conversion", "clik", "Click", ""],
  channel: ["", "x".repeat(64), "x".repeat(65), "tab\there", "a\nb"],
  campaign: ["", "x".repeat(129), "spring\u0000"],
  ad: ["", "x".repeat(128), "ad\r"],
  city: ["", "São Paulo", "x".repeat(129), "\u001f"],
  country: ["us", "Fr", "USA", "U", "", "1A", "ÜS"],
  cost: ["", "0", "0.000", "01.50", "1.500000", "1.5000001", "-1", "-0", "1e3", "1234567890123", "abc", "."],
  revenue: ["", "25", "25.10", "-25", " 1", "0001"],
};

/** The checks as `validateEvent` alone makes them: the reference the import must agree with. */
function reference(importId: string, columns: readonly RowColumns[], rows: readonly ImportRow[]) {
  const events = [];
  const rejects: RowReject[] = [];
  const rules = { now: NOW, window: IMPORT_TIME_WINDOW, allowUnknownFields: true };
  for (const row of rows) {
    const record: Record<string, string> = {};
    columns.forEach((column, c) => {
      record[column.field] = row[c + 1] as string;
    });
    if (record.id === undefined || record.id.trim() === "") record.id = generatedEventId(importId, row[0]);
    const check = validateEvent(record, rules);
    if (check.ok) events.push(check.event);
    else rejects.push({ line: row[0], column: check.field, reason: check.message, raw: "" });
  }
  return { events, rejects };
}

function compare(columns: RowColumns[], rows: ImportRow[]) {
  const checked = checkRows("imp_1", columns, rows, NOW);
  const expected = reference("imp_1", columns, rows);
  expect(checked.events).toEqual(expected.events);
  const header = (field: string) => columns.find((column) => column.field === field)?.header ?? field;
  expect(checked.rejects.map(({ line, column }) => ({ line, column }))).toEqual(
    expected.rejects.map(({ line, column }) => ({ line, column: header(column) })),
  );
  // The words are validateEvent's (less the bulk-import hint), however the row was read.
  checked.rejects.forEach((reject, i) => {
    const { column, reason } = expected.rejects[i] as RowReject;
    expect(
      reject.reason.startsWith(`${column} ${reason.replace(/; use a bulk import for history$/, "")}`),
    ).toBe(true);
  });
}

describe("row checks agree with validateEvent", () => {
  const columns = FIELDS.map((field) => ({ field, header: field.toUpperCase() }));

  test("every tried value of every field, one at a time", () => {
    const rows: ImportRow[] = [];
    let line = 2;
    FIELDS.forEach((field, f) => {
      for (const value of TRIES[field]) rows.push([line++, ...BASE.map((v, i) => (i === f ? value : v))]);
    });
    compare(columns, rows);
  });

  test("random rows mixing tried values", () => {
    let seed = 7;
    const pick = <T>(items: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return items[seed % items.length] as T;
    };
    const rows: ImportRow[] = [];
    for (let line = 2; line < 3000; line++) {
      rows.push([
        line,
        ...FIELDS.map((field, f) => pick([BASE[f] as string, BASE[f] as string, ...TRIES[field]])),
      ]);
    }
    compare(columns, rows);
  });

  test("columns in another order, optional ones absent, a field given twice, short rows", () => {
    const reordered = [...columns].reverse();
    const rows = (values: string[][]) => values.map((v, i) => [i + 2, ...v] as ImportRow);
    compare(reordered, rows([[...BASE].reverse(), [...BASE].reverse().map((v) => (v === "US" ? "de" : v))]));
    const required = columns.filter((column) => !["id", "cost", "revenue"].includes(column.field));
    compare(required, rows([BASE.slice(1, 8), BASE.slice(1, 7)]));
    const twice = [...columns, { field: "country" as const, header: "COUNTRY 2" }];
    compare(
      twice,
      rows([
        [...BASE, "fr"],
        [...BASE, "FRA"],
        [...BASE.slice(0, 6), "FRA", ...BASE.slice(7), "fr"],
      ]),
    );
    compare(columns, rows([BASE.slice(0, 9), BASE.slice(0, 3)]));
  });
});

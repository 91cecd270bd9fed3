// Which CSV column holds which event field. The header row names the columns; by default a column whose name is
// an event field (case and surrounding spaces ignored) or one of a few common aliases maps to that field, and
// a `columns` mapping (`"Event Time:ts,Type:kind"` or a JSON object `{"Event Time": "ts"}`) maps other names.
// Columns that map to nothing are ignored (and reported), so exports may carry columns of their own.
import { EVENT_FIELDS, type EventField } from "../events/fields.ts";

/** Fields every row must have a column for; `id` is optional (rows without one get an id from the line). */
export const REQUIRED_COLUMNS: readonly EventField[] = EVENT_FIELDS.filter(
  (field) => field !== "id" && field !== "cost" && field !== "revenue",
);

/** Other header names understood without a mapping. */
export const COLUMN_ALIASES: Readonly<Record<string, EventField>> = {
  event_id: "id",
  timestamp: "ts",
  time: "ts",
  event_time: "ts",
  type: "kind",
  event_type: "kind",
  ad_id: "ad",
  country_code: "country",
  spend: "cost",
};

/** One used column: its position in each row, the event field it fills, and its name in the file. */
export interface ColumnBinding {
  index: number;
  field: EventField;
  header: string;
}

export interface HeaderPlan {
  bindings: ColumnBinding[];
  /** Header names that map to no field. */
  ignored: string[];
  /** How many fields every row must have (the header's width). */
  width: number;
}

export type ColumnMapping = Readonly<Record<string, EventField>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

const FIELDS = new Set<string>(EVENT_FIELDS);
const MAX_MAPPING_ENTRIES = 64;

/**
 * Reads a `columns` option: `"Event Time:ts,Type:kind"` (header name, colon, event field; the last colon
 * separates them) or a JSON object `{"Event Time": "ts"}` for names with commas in them.
 *
 * @example parseColumnMapping("Event Time:ts,Type:kind") // {ok: true, value: {"event time": "ts", type: "kind"}}
 */
export function parseColumnMapping(text: string | undefined): Parsed<ColumnMapping> {
  if (text === undefined || text.trim() === "") return { ok: true, value: {} };
  let pairs: [string, unknown][];
  if (text.trim().startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return bad('is not valid JSON; send {"<header>": "<field>"} or "<header>:<field>,…"');
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return bad('must be a JSON object {"<header>": "<field>"}');
    }
    pairs = Object.entries(parsed);
  } else {
    pairs = [];
    for (const item of text.split(",")) {
      const colon = item.lastIndexOf(":");
      if (colon <= 0) return bad(`"${clip(item)}" is not <header>:<field>`);
      pairs.push([item.slice(0, colon), item.slice(colon + 1).trim()]);
    }
  }
  if (pairs.length > MAX_MAPPING_ENTRIES) return bad(`has more than ${MAX_MAPPING_ENTRIES} entries`);
  const mapping: Record<string, EventField> = {};
  const targets = new Set<string>();
  for (const [header, field] of pairs) {
    const name = normalise(header);
    if (name === "") return bad("has an empty header name");
    if (typeof field !== "string" || !FIELDS.has(field)) {
      return bad(`maps "${clip(header)}" to ${JSON.stringify(field)}; fields are ${EVENT_FIELDS.join(", ")}`);
    }
    if (targets.has(field)) return bad(`maps two headers to "${field}"`);
    targets.add(field);
    mapping[name] = field as EventField;
  }
  return { ok: true, value: mapping };
}

/**
 * Binds a header row to event fields. Fails (naming `header` or `columns`) when the row is no header at all,
 * when two columns fill one field, or when required fields have no column.
 */
export function planColumns(header: readonly string[], mapping: ColumnMapping = {}): Parsed<HeaderPlan> {
  const bindings: ColumnBinding[] = [];
  const ignored: string[] = [];
  const mapped = new Set(Object.values(mapping));
  header.forEach((raw, index) => {
    const name = normalise(raw);
    const field =
      mapping[name] ??
      (FIELDS.has(name) && !mapped.has(name as EventField) ? (name as EventField) : undefined) ??
      (COLUMN_ALIASES[name] !== undefined && !mapped.has(COLUMN_ALIASES[name])
        ? COLUMN_ALIASES[name]
        : undefined);
    if (field === undefined) {
      ignored.push(raw);
      return;
    }
    bindings.push({ index, field, header: raw });
  });
  if (bindings.length === 0) {
    return {
      ok: false,
      field: "header",
      message:
        `the first row must be a header naming the columns (${REQUIRED_COLUMNS.join(", ")}, optionally id, ` +
        `cost, revenue); it reads ${describeRow(header)}. For other names pass columns=<header>:<field>,…`,
    };
  }
  const seen = new Map<EventField, string>();
  for (const binding of bindings) {
    const first = seen.get(binding.field);
    if (first !== undefined) {
      return {
        ok: false,
        field: "header",
        message: `columns "${clip(first)}" and "${clip(binding.header)}" both give "${binding.field}"`,
      };
    }
    seen.set(binding.field, binding.header);
  }
  const missing = REQUIRED_COLUMNS.filter((field) => !seen.has(field));
  if (missing.length > 0) {
    return {
      ok: false,
      field: "header",
      message:
        `no column for ${missing.join(", ")} (the header has ${describeRow(header)}); ` +
        "rename the columns or pass columns=<header>:<field>,…",
    };
  }
  return { ok: true, value: { bindings, ignored, width: header.length } };
}

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

function describeRow(row: readonly string[]): string {
  const shown = row.slice(0, 12).map((cell) => JSON.stringify(clip(cell)));
  return shown.join(", ") + (row.length > 12 ? `, … (${row.length} columns)` : "");
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function bad(message: string): { ok: false; field: string; message: string } {
  return { ok: false, field: "columns", message: `columns ${message}` };
}

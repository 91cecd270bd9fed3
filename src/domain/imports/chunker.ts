// Parsed CSV records in, import chunks out: the header row is bound to event fields, every later record
// becomes a row (its mapped values, in column order) or a reject (ragged, bad quoting, invalid UTF-8), and
// every CHUNK_ROWS of them make a chunk. Values are only clipped here, never judged: the import actor runs
// the same per-row checks as `POST /v1/events`.
import { TEXT_LIMITS } from "../events/fields.ts";
import { type ColumnBinding, type ColumnMapping, type HeaderPlan, planColumns } from "./columns.ts";
import type { CsvRecord } from "./csv-parser.ts";
import { CHUNK_ROWS, type ImportRow, type RowReject } from "./messages.ts";

/** A chunk's content, before it is numbered and wrapped in a message. */
export interface ChunkContent {
  rows: ImportRow[];
  rejects: RowReject[];
}

/** The file cannot be imported at all (no header, unusable header): names the part at fault. */
export class ImportInputError extends Error {
  override name = "ImportInputError";
  constructor(
    readonly field: string,
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

// A value longer than its field allows is refused by the actor anyway; one character past the limit keeps
// that refusal (and its message) while bounding the message size.
const CLIP = {
  id: TEXT_LIMITS.id + 1,
  ts: 64,
  kind: 32,
  channel: TEXT_LIMITS.channel + 1,
  campaign: TEXT_LIMITS.campaign + 1,
  ad: TEXT_LIMITS.ad + 1,
  country: 16,
  city: TEXT_LIMITS.city + 1,
  cost: 40,
  revenue: 40,
} as const;
const RAW_CLIP = 512;

export interface ChunkerOptions {
  mapping?: ColumnMapping;
  rowsPerChunk?: number;
}

/**
 * @example
 * const chunker = new CsvChunker({ mapping });
 * for (const record of records) { const full = chunker.add(record); if (full) publish(full); }
 * const last = chunker.finish();
 */
export class CsvChunker {
  private plan: HeaderPlan | undefined;
  private header: string[] = [];
  private readonly mapping: ColumnMapping;
  private readonly rowsPerChunk: number;
  private current: ChunkContent = { rows: [], rejects: [] };
  /** Data rows seen so far (good and rejected). */
  rows = 0;

  constructor(options: ChunkerOptions = {}) {
    this.mapping = options.mapping ?? {};
    this.rowsPerChunk = options.rowsPerChunk ?? CHUNK_ROWS;
  }

  /** The header's bindings, once the header row has been read. */
  get columns(): ColumnBinding[] | undefined {
    return this.plan?.bindings;
  }

  get ignoredColumns(): string[] {
    return this.plan?.ignored ?? [];
  }

  /** Adds one record; returns a chunk when this record filled one. Throws `ImportInputError` for the header. */
  add(record: CsvRecord): ChunkContent | undefined {
    const plan = this.plan;
    if (plan === undefined) {
      this.readHeader(record);
      return undefined;
    }
    this.rows++;
    const chunk = this.current;
    if ("error" in record) {
      const index = record.error.field;
      chunk.rejects.push({
        line: record.line,
        column: index === undefined ? "" : (this.header[index] ?? `column ${index + 1}`),
        reason: record.error.reason,
        raw: clip(record.raw, RAW_CLIP),
      });
    } else if (record.fields.length !== plan.width) {
      chunk.rejects.push({
        line: record.line,
        column: "",
        reason: `has ${record.fields.length} field${record.fields.length === 1 ? "" : "s"}; the header has ${plan.width}`,
        raw: clip(record.fields.join(","), RAW_CLIP),
      });
    } else {
      const bindings = plan.bindings;
      // Sized once: grown value by value, every row would be reallocated on the way.
      const row = new Array(bindings.length + 1) as ImportRow;
      row[0] = record.line;
      for (let b = 0; b < bindings.length; b++) {
        const binding = bindings[b] as ColumnBinding;
        row[b + 1] = clip(record.fields[binding.index] as string, CLIP[binding.field]);
      }
      chunk.rows.push(row);
    }
    if (chunk.rows.length + chunk.rejects.length < this.rowsPerChunk) return undefined;
    this.current = { rows: [], rejects: [] };
    return chunk;
  }

  /** The last, partial chunk (undefined when empty). Throws when the file had no header row. */
  finish(): ChunkContent | undefined {
    if (this.plan === undefined)
      throw new ImportInputError("body", "the file is empty: expected a header row");
    const chunk = this.current;
    this.current = { rows: [], rejects: [] };
    return chunk.rows.length + chunk.rejects.length > 0 ? chunk : undefined;
  }

  private readHeader(record: CsvRecord): void {
    if ("error" in record) {
      throw new ImportInputError(
        "header",
        `the header row (line ${record.line}) ${record.error.reason}`,
        record.line,
      );
    }
    const planned = planColumns(record.fields, this.mapping);
    if (!planned.ok) throw new ImportInputError(planned.field, planned.message, record.line);
    this.plan = planned.value;
    this.header = record.fields;
  }
}

/** Splits a chunk in two halves (for a message that came out too large). */
export function splitChunk(chunk: ChunkContent): [ChunkContent, ChunkContent] {
  const all: (ImportRow | RowReject)[] = [...chunk.rows, ...chunk.rejects].sort(
    (a, b) => lineOf(a) - lineOf(b),
  );
  const half = Math.ceil(all.length / 2);
  const part = (items: (ImportRow | RowReject)[]): ChunkContent => ({
    rows: items.filter((item): item is ImportRow => Array.isArray(item)),
    rejects: items.filter((item): item is RowReject => !Array.isArray(item)),
  });
  return [part(all.slice(0, half)), part(all.slice(half))];
}

function lineOf(item: ImportRow | RowReject): number {
  return Array.isArray(item) ? item[0] : item.line;
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

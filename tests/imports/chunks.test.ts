// Header mapping, chunking and row checks: the pure half of a CSV import.
import { describe, expect, test } from "bun:test";
import { CsvChunker, ImportInputError, splitChunk } from "../../src/domain/imports/chunker.ts";
import { parseColumnMapping, planColumns } from "../../src/domain/imports/columns.ts";
import { CsvParser } from "../../src/domain/imports/csv-parser.ts";
import { importChunkMessage } from "../../src/domain/imports/messages.ts";
import { checkRows, generatedEventId } from "../../src/domain/imports/rows.ts";
import { finalStatus, IMPORT_STATUSES } from "../../src/domain/imports/status.ts";
import { IMPORT_STATUSES as WAREHOUSE_STATUSES } from "../../src/warehouse/schema.ts";

const HEADER = "id,ts,kind,channel,campaign,ad,country,city,cost,revenue";

function chunksOf(text: string, rowsPerChunk = 500, mapping = {}) {
  const parser = new CsvParser();
  const chunker = new CsvChunker({ rowsPerChunk, mapping });
  const chunks = [];
  for (const record of [...parser.push(new TextEncoder().encode(text)), ...parser.end()]) {
    const full = chunker.add(record);
    if (full) chunks.push(full);
  }
  const last = chunker.finish();
  if (last) chunks.push(last);
  return { chunks, chunker };
}

describe("columns", () => {
  test("field names match case-insensitively; aliases and a mapping cover other names; extras are ignored", () => {
    const mapping = parseColumnMapping("Event Time:ts,Type:kind");
    expect(mapping).toEqual({ ok: true, value: { "event time": "ts", type: "kind" } });
    if (!mapping.ok) throw new Error("unreachable");
    const plan = planColumns(
      ["Event Time", "Type", " Channel ", "campaign", "ad_id", "COUNTRY", "city", "spend", "notes"],
      mapping.value,
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) throw new Error("unreachable");
    expect(plan.value.bindings.map((binding) => binding.field)).toEqual([
      "ts",
      "kind",
      "channel",
      "campaign",
      "ad",
      "country",
      "city",
      "cost",
    ]);
    expect(plan.value.ignored).toEqual(["notes"]);
  });

  test("a mapping in JSON; bad mappings name `columns`", () => {
    expect(parseColumnMapping('{"When, UTC": "ts"}')).toEqual({ ok: true, value: { "when, utc": "ts" } });
    expect(parseColumnMapping("a:nope")).toMatchObject({ ok: false, field: "columns" });
    expect(parseColumnMapping("a:ts,b:ts")).toMatchObject({
      ok: false,
      message: expect.stringContaining('"ts"'),
    });
    expect(parseColumnMapping("{not json")).toMatchObject({ ok: false, field: "columns" });
  });

  test("no header, missing columns and duplicates are refused naming `header`", () => {
    const noHeader = planColumns(["e1", "2026-01-01T00:00:00Z", "click", "google"]);
    expect(noHeader).toMatchObject({
      ok: false,
      field: "header",
      message: expect.stringContaining("header"),
    });
    expect(planColumns(["ts", "kind"])).toMatchObject({
      ok: false,
      message: expect.stringContaining("no column for channel, campaign, ad, country, city"),
    });
    expect(planColumns(HEADER.split(",").concat("timestamp"))).toMatchObject({
      ok: false,
      message: expect.stringContaining('both give "ts"'),
    });
  });
});

describe("chunker", () => {
  test("rows of 500, ragged rows rejected with their line, values clipped, lines exact", () => {
    const lines = [HEADER];
    for (let i = 0; i < 1203; i++) {
      if (i === 700) lines.push("only,three,fields");
      else lines.push(`e${i},2026-01-01T00:00:00Z,click,google,c,ad,US,Austin,${"9".repeat(60)},0`);
    }
    const { chunks, chunker } = chunksOf(`${lines.join("\n")}\n`);
    expect(chunks.map((chunk) => chunk.rows.length + chunk.rejects.length)).toEqual([500, 500, 203]);
    expect(chunker.rows).toBe(1203);
    expect(chunks[1]?.rejects).toEqual([
      { line: 702, column: "", reason: "has 3 fields; the header has 10", raw: "only,three,fields" },
    ]);
    expect(chunks[0]?.rows[0]?.[0]).toBe(2);
    expect(chunks[2]?.rows.at(-1)?.[0]).toBe(1204);
    expect(chunks[0]?.rows[0]?.[9]).toHaveLength(40);
  });

  test("an empty file and a broken header are input errors", () => {
    expect(() => chunksOf("")).toThrow(ImportInputError);
    expect(() => chunksOf('"a"b,c\n')).toThrow(/header row \(line 1\)/);
  });

  test("a split chunk keeps every row once, in line order", () => {
    const { chunks } = chunksOf(
      `${HEADER}\n${Array.from({ length: 9 }, (_, i) => (i === 4 ? "x" : `${i},t,k,c,c,a,US,c,,`)).join("\n")}`,
    );
    const [a, b] = splitChunk(chunks[0] as NonNullable<(typeof chunks)[0]>);
    const lines = (part: typeof a) =>
      [...part.rows.map((row) => row[0]), ...part.rejects.map((r) => r.line)].sort();
    expect([...lines(a), ...lines(b)].sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.rejects).toEqual([]);
    expect(a.rejects.map((reject) => reject.line)).toEqual([6]);
  });
});

describe("row checks", () => {
  const columns = HEADER.split(",").map((name) => ({ field: name as never, header: name.toUpperCase() }));
  const now = Date.parse("2026-06-01T00:00:00Z");

  test("good rows become normalised events; rows without id get one from the line", () => {
    const { events, rejects } = checkRows(
      "imp_1",
      columns,
      [
        [2, "", "2026-05-01T10:00:00+02:00", "click", "google", "spring", "ad-1", "fr", "Lyon", "1.50", ""],
        [3, "e9", "1777000000000", "impression", "email", "spring", "ad-2", "US", "Austin", "", "0"],
      ],
      now,
    );
    expect(rejects).toEqual([]);
    expect(events[0]).toMatchObject({
      id: generatedEventId("imp_1", 2),
      ts: "2026-05-01T08:00:00.000Z",
      country: "FR",
      cost: "1.5",
      revenue: "0",
    });
    expect(events[1]).toMatchObject({ id: "e9", ts: new Date(1777000000000).toISOString() });
  });

  test("each bad row names its line, the column as the file calls it, and why", () => {
    const bad = (line: number, values: string[]) => [line, ...values] as [number, ...string[]];
    const base = ["e", "2026-05-01T10:00:00Z", "click", "google", "spring", "ad", "US", "Austin", "1", "0"];
    const with_ = (index: number, value: string) => base.map((v, i) => (i === index ? value : v));
    const { events, rejects } = checkRows(
      "imp_1",
      columns,
      [
        bad(2, with_(2, "clik")),
        bad(3, with_(6, "USA")),
        bad(4, with_(8, "-3")),
        bad(5, with_(1, "2026-05-01 10:00")),
        bad(6, with_(3, "")),
        bad(7, with_(1, "1990-01-01T00:00:00Z")),
      ],
      now,
    );
    expect(events).toEqual([]);
    expect(rejects.map(({ line, column }) => [line, column])).toEqual([
      [2, "KIND"],
      [3, "COUNTRY"],
      [4, "COST"],
      [5, "TS"],
      [6, "CHANNEL"],
      [7, "TS"],
    ]);
    expect(rejects[0]?.reason).toContain('(got "clik")');
    expect(rejects[2]?.reason).toBe('cost must not be negative (got "-3")');
    expect(rejects[3]?.reason).toContain("no offset");
    expect(rejects[5]?.reason).not.toContain("bulk import");
  });

  test("messages built from chunks pass the actor's schema", () => {
    const { chunks, chunker } = chunksOf(`${HEADER}\ne1,2026-01-01T00:00:00Z,click,g,c,a,US,x,,\nbad\n`);
    const message = {
      kind: "chunk",
      tenantId: "acme",
      importId: "imp_1",
      chunk: 0,
      settings: { maxRejectRatio: 0.1, fileName: null, createdAt: 1, columnMapping: null },
      columns: chunker.columns?.map(({ field, header }) => ({ field, header })),
      ...chunks[0],
    };
    expect(importChunkMessage.safeParse(message).success).toBe(true);

    // A row that is not [line, strings…], or one row too many, is refused naming where.
    const rows = message.rows as unknown[];
    const badRow = importChunkMessage.safeParse({ ...message, rows: [...rows, [0, "x"]] });
    expect(badRow.error?.issues.map((issue) => issue.path.join("."))).toEqual([`rows.${rows.length}`]);
    const tooMany = importChunkMessage.safeParse({ ...message, rows: Array(501).fill(rows[0]) });
    expect(tooMany.error?.issues.map((issue) => issue.path.join("."))).toEqual(["rows"]);
  });
});

describe("final status", () => {
  test("counts decide; the reject ratio is a strict upper bound; an upload error fails", () => {
    expect(finalStatus(100, 0, 0.1, null)).toBe("completed");
    expect(finalStatus(90, 10, 0.1, null)).toBe("completed_with_errors");
    expect(finalStatus(89, 11, 0.1, null)).toBe("failed");
    expect(finalStatus(100, 0, 0.1, "bad quote")).toBe("failed");
  });

  test("the statuses are the warehouse's", () => {
    expect([...IMPORT_STATUSES]).toEqual([...WAREHOUSE_STATUSES]);
  });
});

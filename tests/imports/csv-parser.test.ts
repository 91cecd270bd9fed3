// The streaming CSV parser: RFC 4180 quoting, line ends, line numbers, bad rows rejected alone, fatal cases,
// and the same records however the bytes are split.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CsvFatalError, CsvParser, type CsvRecord } from "../../src/domain/imports/csv-parser.ts";

const encoder = new TextEncoder();

function parse(input: string | Uint8Array, pieces = 1, options = {}): CsvRecord[] {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const parser = new CsvParser(options);
  const records: CsvRecord[] = [];
  const size = Math.max(1, Math.ceil(bytes.length / pieces));
  for (let at = 0; at < bytes.length; at += size) records.push(...parser.push(bytes.subarray(at, at + size)));
  records.push(...parser.end());
  return records;
}

describe("CsvParser", () => {
  test("plain, quoted, escaped quotes, commas and newlines inside quotes", () => {
    const text = 'a,b,c\r\n1,"two, 2","say ""hi"""\r\n"multi\nline",,x\n';
    expect(parse(text)).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "two, 2", 'say "hi"'] },
      { line: 3, fields: ["multi\nline", "", "x"] },
    ]);
  });

  test("line numbers count the physical line a record starts on; blank lines are skipped", () => {
    const text = 'h1,h2\n\n"a\nb",c\n\r\nd,e';
    expect(parse(text)).toEqual([
      { line: 1, fields: ["h1", "h2"] },
      { line: 3, fields: ["a\nb", "c"] },
      { line: 6, fields: ["d", "e"] },
    ]);
  });

  test("lone CR line ends, a UTF-8 byte order mark, a trailing comma", () => {
    expect(parse("\uFEFFa,b\rc,\r")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["c", ""] },
    ]);
  });

  test("a stray quote rejects its row only, and quotes after it do not swallow later rows", () => {
    const records = parse('h\nab"c\n"ok"\n"x"y\nlast\n');
    expect(records).toEqual([
      { line: 1, fields: ["h"] },
      {
        line: 2,
        error: { field: 0, reason: expect.stringContaining("quote inside an unquoted field") },
        raw: 'ab"c',
      },
      { line: 3, fields: ["ok"] },
      { line: 4, error: { field: 0, reason: expect.stringContaining("after the closing quote") }, raw: "xy" },
      { line: 5, fields: ["last"] },
    ]);
  });

  test("invalid UTF-8 rejects the row and names the field; valid multi-byte text passes", () => {
    const bytes = new Uint8Array([
      ...encoder.encode("a,b\nZürich,1\nx,"),
      0xe9,
      ...encoder.encode("t\u00e9\n"),
      ...encoder.encode("y,2\n"),
    ]);
    const records = parse(bytes);
    expect(records[1]).toEqual({ line: 2, fields: ["Zürich", "1"] });
    expect(records[2]).toMatchObject({
      line: 3,
      error: { field: 1, reason: expect.stringContaining("UTF-8") },
    });
    expect(records[3]).toEqual({ line: 4, fields: ["y", "2"] });
  });

  test("an unclosed quote at the end of the file is fatal and names its line", () => {
    expect(() => parse('a\n"open\nmore\n')).toThrow(CsvFatalError);
    try {
      parse('a\nb\n"open\nmore\n');
    } catch (error) {
      expect((error as CsvFatalError).line).toBe(3);
    }
  });

  test("a quoted field past the record limit is fatal; an unquoted long row is rejected alone", () => {
    expect(() => parse(`a\n"${"x".repeat(200)}`, 1, { maxRecordBytes: 100 })).toThrow(/runs past 100 bytes/);
    const records = parse(`a\n${"y".repeat(300)}\nz\n`, 7, { maxRecordBytes: 100 });
    expect(records[1]).toMatchObject({
      line: 2,
      error: { reason: expect.stringContaining("longer than 100") },
    });
    expect(records[2]).toEqual({ line: 3, fields: ["z"] });
  });

  test("a UTF-16 file is refused at once", () => {
    expect(() => parse(new Uint8Array([0xff, 0xfe, 0x61, 0x00]))).toThrow(/UTF-16/);
  });

  test("an empty input gives no records", () => {
    expect(parse("")).toEqual([]);
    expect(parse("\n\n")).toEqual([]);
  });

  test("property: any split of the bytes gives the same records as one push", () => {
    const cell = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom("", '"', ",", "\n", "\r\n", "é", "日本", 'a""b'),
    );
    const table = fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(table, fc.integer({ min: 1, max: 40 }), fc.boolean(), (rows, pieces, crlf) => {
        const text = rows.map((row) => row.map(quote).join(",")).join(crlf ? "\r\n" : "\n");
        const whole = parse(text);
        expect(parse(text, pieces)).toEqual(whole);
        // Empty values are quoted, so no row is blank: every row comes back with its exact fields.
        expect(whole.map((record) => ("fields" in record ? record.fields : null))).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });
});

function quote(value: string): string {
  return /[",\r\n]/.test(value) || value === "" ? `"${value.replaceAll('"', '""')}"` : value;
}

// Malformed uploads give clear answers, never a hang: refused files name what is wrong (400 / 415), bad rows
// inside a good file are rejected alone with their line and column.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { CSV_HEADER, type ImportStack, startImportStack } from "./support.ts";

let stack: ImportStack;
let key: string;

beforeAll(async () => {
  stack = await startImportStack();
  key = (await stack.createTenant()).apiKey;
});

afterAll(async () => {
  await stack.stop();
});

const GOOD = (id: string) => `${id},2026-11-20T10:00:00Z,click,google,spring,ad-1,US,Austin,0.5,0`;

/** Fails the test instead of waiting forever. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function refused(body: RequestInit["body"], headers: Record<string, string> = {}, query = "") {
  const response = await within(10_000, stack.upload(body, key, { headers, query }));
  return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
}

function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) out.push(...(typeof part === "string" ? new TextEncoder().encode(part) : part));
  return new Uint8Array(out);
}

describe("refused files", () => {
  test("an empty body", async () => {
    const { status, body } = await refused("");
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "empty_file", message: expect.stringContaining("header row") });
  });

  test("a header and no rows", async () => {
    const { status, body } = await refused(`${CSV_HEADER}\n`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "no_rows" });
  });

  test("no header row (data in the first line)", async () => {
    const { status, body } = await refused(`${GOOD("e1")}\n${GOOD("e2")}\n`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_header", line: 1 });
    expect(body.error.fields).toEqual([
      { field: "header", message: expect.stringContaining("must be a header") },
    ]);
  });

  test("a header missing required columns names them", async () => {
    const { status, body } = await refused("ts,kind,ad\n2026-11-20T10:00:00Z,click,a\n");
    expect(status).toBe(400);
    expect(String(body.error.message)).toContain("no column for channel, campaign, country, city");
  });

  test("a quote left open runs to the end of the file: refused with the line it opened on", async () => {
    const { status, body } = await refused(
      `${CSV_HEADER}\n${GOOD("e1")}\ne2,"2026-11-20T10:00:00Z,click\n${GOOD("e3")}\n`,
    );
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_csv", line: 3 });
  });

  test("UTF-16 (wrong encoding for the whole file)", async () => {
    const utf16 = new Uint8Array([
      0xff,
      0xfe,
      ...new Uint8Array(new Uint16Array([...CSV_HEADER].map((c) => c.charCodeAt(0))).buffer),
    ]);
    const { status, body } = await refused(utf16);
    expect(status).toBe(400);
    expect(String(body.error.message)).toContain("UTF-16");
  });

  test("a body that claims gzip but is not", async () => {
    const { status, body } = await refused(`${CSV_HEADER}\n${GOOD("e1")}\n`, { "content-encoding": "gzip" });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_gzip" });
  });

  test("not CSV at all: 415; bad options name their field", async () => {
    expect((await refused("{}", { "content-type": "application/json" })).status).toBe(415);
    const badRatio = await refused(`${CSV_HEADER}\n${GOOD("e1")}\n`, {}, "maxRejectRatio=2");
    expect(badRatio.body.error.fields).toEqual([
      { field: "maxRejectRatio", message: "must be a number from 0 to 1" },
    ]);
    const badId = await refused(`${CSV_HEADER}\n`, { "idempotency-key": "no spaces allowed" });
    expect(badId.body.error.fields).toEqual([{ field: "Idempotency-Key", message: expect.any(String) }]);
    const badColumns = await refused(`${CSV_HEADER}\n`, {}, "columns=when:tss");
    expect(badColumns.body.error.fields).toEqual([
      { field: "columns", message: expect.stringContaining('"tss"') },
    ]);
  });
});

describe("bad rows in a good file", () => {
  test("ragged rows, bad quoting and invalid UTF-8 are rejected alone, with line and column", async () => {
    const file = bytes(
      `${CSV_HEADER}\r\n`,
      `${GOOD("r1")}\r\n`, // line 2
      "r2,2026-11-20T10:00:00Z,click\r\n", // line 3: ragged
      `r3,2026-11-20T10:00:00Z,click,google,spring,ad-1,US,Aus"tin,0.5,0\r\n`, // line 4: stray quote
      // lines 5-6: parsed as one row, refused like /v1/events refuses a newline in a name
      `"r4",2026-11-20T10:00:00Z,click,google,"multi\nline campaign",ad-1,US,Austin,0.5,0\r\n`,
      "r5,2026-11-20T10:00:00Z,click,google,spring,ad-1,US,M",
      [0xfc], // latin-1 ü: invalid UTF-8
      "nchen,0.5,0\r\n", // line 7
      `${GOOD("r6")},extra\r\n`, // line 8: ragged (too many)
      `${GOOD("r7")}`, // line 9, no final line break
    );
    const response = await within(10_000, stack.upload(file, key, { importId: "rows-1" }));
    expect(response.status).toBe(202);
    const view = await stack.waitForImport("rows-1", key, 20_000);
    expect(view.status).toBe("failed"); // 5 of 7 rows rejected: above the default 10%
    expect(view.rows).toMatchObject({ total: 7, accepted: 2, rejected: 5 });
    expect(view.errors.map((error: { line: number; column: string }) => [error.line, error.column])).toEqual([
      [3, ""],
      [4, "city"],
      [5, "campaign"],
      [7, "city"],
      [8, ""],
    ]);
    expect(view.errors[0].reason).toBe("has 3 fields; the header has 10");
    expect(view.errors[1].reason).toContain("quote inside an unquoted field");
    expect(view.errors[2].reason).toContain("control characters");
    expect(view.errors[3].reason).toContain("not valid UTF-8");
    expect(view.errors[4].reason).toBe("has 11 fields; the header has 10");
  });

  test("a mid-file broken quote after queued chunks: the rows before it land and the import fails with the line", async () => {
    const lines = [CSV_HEADER];
    for (let i = 1; i <= 600; i++) lines.push(GOOD(`m${i}`));
    lines.push(`m601,"2026-11-20T10:00:00Z,click,google`);
    const response = await within(10_000, stack.upload(`${lines.join("\n")}\n`, key, { importId: "mid-1" }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: "invalid_csv", line: 602, importId: "mid-1", status: "failed" });
    const view = await stack.waitForImport("mid-1", key, 20_000);
    expect(view.status).toBe("failed");
    expect(view.rows).toMatchObject({ accepted: 600, rejected: 0 });
    expect(view.error).toContain("line 602");
  });

  test("a gzip body, and another tenant cannot see the import", async () => {
    const text = `${CSV_HEADER}\n${GOOD("g1")}\n${GOOD("g2")}\n`;
    const response = await within(
      10_000,
      stack.upload(gzipSync(text), key, {
        importId: "gz-1",
        headers: { "content-type": "application/gzip" },
      }),
    );
    expect(response.status).toBe(202);
    expect((await stack.waitForImport("gz-1", key)).rows).toMatchObject({ accepted: 2, rejected: 0 });
    const other = await stack.createTenant();
    const peek = await stack.request("/v1/imports/gz-1", { key: other.apiKey });
    expect(peek.status).toBe(404);
    expect((await stack.request("/v1/imports/gz-1/errors", { key: other.apiKey })).status).toBe(404);
  });
});

// The import API around the upload: resuming an interrupted upload, the reject ratio, the errors as JSON pages
// and as CSV, the tenant's list, and a chunk delivered twice counting once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CsvParser } from "../../src/domain/imports/csv-parser.ts";
import { chunkDedupId } from "../../src/domain/imports/messages.ts";
import { keys } from "../../src/domain/keys.ts";
import { CSV_HEADER, type ImportStack, makeCsv, startImportStack } from "./support.ts";

let stack: ImportStack;
let tenant: { id: string; apiKey: string };

beforeAll(async () => {
  stack = await startImportStack();
  tenant = await stack.createTenant();
});

afterAll(async () => {
  await stack.stop();
});

async function eventCount(): Promise<number> {
  const [row] = await stack.warehouse
    .sql`select count(*)::int as n from ad_events where tenant_id = ${tenant.id}`;
  return (row as { n: number }).n;
}

/** A body that sends `bytes` up to `cut`, then fails like a dropped connection. */
function brokenBody(bytes: Uint8Array, cut: number): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (sent) {
        controller.error(new Error("connection reset by peer"));
        return;
      }
      sent = true;
      controller.enqueue(bytes.subarray(0, cut));
    },
  });
}

describe("resuming", () => {
  // Timestamps are relative to now: the same file is made once.
  const { text, badLines } = makeCsv(5_000, 100, 3);

  test("an upload that breaks off is interrupted; uploading again with the same id completes it exactly", async () => {
    const bytes = new TextEncoder().encode(text);
    const broken = await stack.upload(brokenBody(bytes, Math.floor(bytes.length * 0.6)), tenant.apiKey, {
      importId: "resume-1",
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("upload_interrupted");
    const halfway = await stack.request("/v1/imports/resume-1", { key: tenant.apiKey });
    expect(((await halfway.json()) as { status: string }).status).toBe("interrupted");

    const again = await stack.upload(text, tenant.apiKey, { importId: "resume-1" });
    expect(again.status).toBe(202);
    const view = await stack.waitForImport("resume-1", tenant.apiKey);
    expect(view.status).toBe("completed_with_errors");
    expect(view.rows).toMatchObject({ total: 5000, accepted: 5000 - badLines.size, rejected: badLines.size });
    expect(view.chunks).toEqual({ total: 10, done: 10 });
    expect(await eventCount()).toBe(5000 - badLines.size);
  });

  test("a chunk delivered again (a new message, past the broker's deduplication) counts once", async () => {
    const before = await stack.request("/v1/imports/resume-1", { key: tenant.apiKey });
    const rowsBefore = ((await before.json()) as { rows: unknown }).rows;
    // Rebuild chunk 3 of the same file the way the edge did, and publish it under a fresh deduplication id.
    const parser = new CsvParser();
    const records = [...parser.push(new TextEncoder().encode(text)), ...parser.end()].slice(
      1 + 3 * 500,
      1 + 4 * 500,
    );
    const [settingsRow] = await stack.warehouse.sql`
      select (extract(epoch from created_at) * 1000)::float8 as created from imports where id = 'resume-1' and tenant_id = ${tenant.id}`;
    const fields = CSV_HEADER.split(",");
    const message = {
      kind: "chunk" as const,
      tenantId: tenant.id,
      importId: "resume-1",
      chunk: 3,
      settings: {
        maxRejectRatio: 0.1,
        fileName: null,
        createdAt: Math.round((settingsRow as { created: number }).created),
        columnMapping: null,
      },
      columns: fields.map((field) => ({ field: field as never, header: field })),
      rows: records
        .filter((r) => "fields" in r && r.fields.length === 10)
        .map((r) => [r.line, ...(r as { fields: string[] }).fields] as [number, ...string[]]),
      rejects: [],
    };
    const okCount = async () =>
      Number((await stack.redis.hget(keys.monitorTotals(tenant.id), "ok|import")) ?? 0);
    const delivered = await okCount();
    await stack.services.publisher?.publish({
      actor: "import",
      body: message,
      deduplicationId: `${chunkDedupId(tenant.id, "resume-1", 3)}-again`,
    });
    const deadline = Date.now() + 10_000;
    while ((await okCount()) === delivered) {
      if (Date.now() > deadline) throw new Error("the repeated chunk was never delivered");
      await Bun.sleep(20);
    }
    const after = await stack.request("/v1/imports/resume-1", { key: tenant.apiKey });
    expect(((await after.json()) as { rows: unknown }).rows).toEqual(rowsBefore);
    expect(await eventCount()).toBe(5000 - badLines.size);
  });
});

describe("reading imports", () => {
  test("a reject ratio of the client's own; errors paged as JSON and as CSV; the tenant's list", async () => {
    const { text, badLines } = makeCsv(1_000, 10, 5); // 10% bad
    expect(
      (await stack.upload(text, tenant.apiKey, { importId: "ratio-1", query: "maxRejectRatio=0.05" })).status,
    ).toBe(202);
    expect(
      (await stack.upload(text, tenant.apiKey, { importId: "ratio-2", query: "maxRejectRatio=0.2" })).status,
    ).toBe(202);
    expect((await stack.waitForImport("ratio-1", tenant.apiKey)).status).toBe("failed");
    const ok = await stack.waitForImport("ratio-2", tenant.apiKey);
    expect(ok.status).toBe("completed_with_errors");
    expect(ok.errors).toHaveLength(10);
    expect(ok.rowsPerSecond).toBeGreaterThan(0);
    expect(ok.etaSeconds).toBe(0);

    const first = await stack.request("/v1/imports/ratio-2/errors?limit=60", { key: tenant.apiKey });
    const page = (await first.json()) as {
      errors: { line: number }[];
      nextCursor: string;
      rowsRejected: number;
    };
    expect(page.errors).toHaveLength(60);
    expect(page.rowsRejected).toBe(badLines.size);
    const next = await stack.request(`/v1/imports/ratio-2/errors?limit=60&cursor=${page.nextCursor}`, {
      key: tenant.apiKey,
    });
    const rest = (await next.json()) as { errors: { line: number }[]; nextCursor: string | null };
    expect(rest.nextCursor).toBeNull();
    expect([...page.errors, ...rest.errors].map((error) => error.line)).toEqual([...badLines.keys()]);

    const csv = await stack.request("/v1/imports/ratio-2/errors", {
      key: tenant.apiKey,
      headers: { accept: "text/csv" },
    });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const csvText = await csv.text();
    const lines = csvText.trimEnd().split("\r\n");
    expect(lines[0]).toBe("line,column,reason,raw");
    expect(lines).toHaveLength(1 + badLines.size);
    expect(lines[1]?.startsWith("11,")).toBe(true);

    const listed = await stack.request("/v1/imports?limit=2", { key: tenant.apiKey });
    const list = (await listed.json()) as { imports: { id: string }[]; nextCursor: string };
    expect(list.imports.map((item) => item.id)).toEqual(["ratio-2", "ratio-1"]);
    const older = await stack.request(`/v1/imports?cursor=${list.nextCursor}`, { key: tenant.apiKey });
    expect(((await older.json()) as { imports: { id: string }[] }).imports.map((item) => item.id)).toEqual([
      "resume-1",
    ]);
  });

  test("unknown and malformed ids are 404; bad paging parameters name themselves", async () => {
    expect((await stack.request("/v1/imports/nope", { key: tenant.apiKey })).status).toBe(404);
    expect((await stack.request("/v1/imports/bad%20id", { key: tenant.apiKey })).status).toBe(404);
    const bad = await stack.request("/v1/imports/ratio-2/errors?cursor=x", { key: tenant.apiKey });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: unknown } }).error.fields).toEqual([
      { field: "cursor", message: expect.any(String) },
    ]);
    expect((await stack.request("/v1/imports", {})).status).toBe(401);
  });
});

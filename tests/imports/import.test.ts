// CSV imports end to end: edge → broker → import actor → Postgres, with exact counts and line numbers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CSV_HEADER, type ImportStack, makeCsv, startImportStack } from "./support.ts";

let stack: ImportStack;

beforeAll(async () => {
  stack = await startImportStack();
});

afterAll(async () => {
  await stack.stop();
});

async function eventCount(tenantId: string): Promise<number> {
  const [row] = await stack.warehouse
    .sql`select count(*)::int as n from ad_events where tenant_id = ${tenantId}`;
  return (row as { n: number }).n;
}

async function allErrors(
  id: string,
  key: string,
): Promise<{ line: number; column: string; reason: string }[]> {
  const errors: { line: number; column: string; reason: string }[] = [];
  let cursor: string | null = "0";
  while (cursor !== null) {
    const response = await stack.request(`/v1/imports/${id}/errors?limit=300&cursor=${cursor}`, { key });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { errors: never[]; nextCursor: string | null };
    errors.push(...page.errors);
    cursor = page.nextCursor;
  }
  return errors;
}

describe("a 100,000-row file with 1% bad rows", () => {
  const rows = 100_000;
  const { text, badLines } = makeCsv(rows, 100, 7);
  let tenant: { id: string; apiKey: string };

  test("ends completed_with_errors with exact counts and the bad rows' line numbers", async () => {
    tenant = await stack.createTenant();
    const started = performance.now();
    const response = await stack.upload(text, tenant.apiKey, { importId: "big-1" });
    expect(response.status).toBe(202);
    const accepted = await response.json();
    expect(accepted).toMatchObject({ id: "big-1", rows: rows, chunks: rows / 500 });
    const view = await stack.waitForImport("big-1", tenant.apiKey, 120_000);
    const seconds = (performance.now() - started) / 1000;
    console.log(`100k rows imported in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)`);
    expect(view.status).toBe("completed_with_errors");
    expect(view.rows).toMatchObject({ total: rows, accepted: rows - badLines.size, rejected: badLines.size });
    expect(view.chunks).toEqual({ total: 200, done: 200 });
    expect(await eventCount(tenant.id)).toBe(rows - badLines.size);

    const errors = await allErrors("big-1", tenant.apiKey);
    expect(errors).toHaveLength(badLines.size);
    expect(new Map(errors.map((error) => [error.line, error.column]))).toEqual(badLines);
    const [row] = await stack.warehouse.sql`
      select rows_accepted::int, rows_rejected::int, chunks_done, chunks_total, status,
        (select count(*)::int from import_errors where tenant_id = ${tenant.id} and import_id = 'big-1') as stored
      from imports where tenant_id = ${tenant.id} and id = 'big-1'`;
    expect(row).toEqual({
      rows_accepted: rows - badLines.size,
      rows_rejected: badLines.size,
      chunks_done: 200,
      chunks_total: 200,
      status: "completed_with_errors",
      stored: badLines.size,
    });
  }, 180_000);

  test("the same file again under the same import id adds nothing", async () => {
    const again = await stack.upload(text, tenant.apiKey, { importId: "big-1" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true, status: "completed_with_errors" });
    expect(await eventCount(tenant.id)).toBe(rows - badLines.size);
  }, 60_000);
});

describe("wide rows", () => {
  test("chunks too big to share a message go one per message, and every row lands exactly", async () => {
    const tenant = await stack.createTenant();
    // ~1.2 KB of JSON per row (multi-byte text near the length limits): ~600 KB per 500-row chunk, so no two
    // chunks fit in one message; a message over the broker's limit would be refused and the upload interrupted.
    const wide = (label: string, i: number) => `${label}-${i}-${"é✓".repeat(58)}`;
    const rows = 4_000;
    const lines = [CSV_HEADER];
    const base = Date.now() - 86_400_000;
    for (let i = 1; i <= rows; i++) {
      const ts = new Date(base + i * 1000).toISOString();
      lines.push(
        `w-${i},${ts},click,google,${wide("c", i % 3)},${wide("a", i % 5)},US,${wide("city", i % 2)},0.5,0`,
      );
    }
    const response = await stack.upload(`${lines.join("\n")}\n`, tenant.apiKey, { importId: "wide-1" });
    expect(response.status).toBe(202);
    const view = await stack.waitForImport("wide-1", tenant.apiKey, 60_000);
    expect(view.status).toBe("completed");
    expect(view.rows).toMatchObject({ total: rows, accepted: rows, rejected: 0 });
    expect(view.chunks).toEqual({ total: rows / 500, done: rows / 500 });
    expect(await eventCount(tenant.id)).toBe(rows);
    const [row] = await stack.warehouse.sql`
      select campaign, ad, city from ad_events where tenant_id = ${tenant.id} and event_id = 'w-7'`;
    expect(row).toEqual({ campaign: wide("c", 1), ad: wide("a", 2), city: wide("city", 1) });
  }, 90_000);
});

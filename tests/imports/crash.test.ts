// The actors host is SIGKILLed in the middle of an import: the broker redelivers what was cut off, the new
// host finds finished work done (import_chunks, idempotent inserts) and the import completes with exact counts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type ImportStack, makeCsv, startImportStack } from "./support.ts";

let stack: ImportStack;

beforeAll(async () => {
  stack = await startImportStack({ childHost: true });
});

afterAll(async () => {
  await stack.stop();
});

test("an import survives its actors host being SIGKILLed halfway", async () => {
  const tenant = await stack.createTenant();
  const rows = 30_000;
  const { text, badLines } = makeCsv(rows, 100, 11);
  const response = await stack.upload(text, tenant.apiKey, { importId: "crash-1" });
  expect(response.status).toBe(202);

  // Kill it while chunks are landing.
  let doneAtKill = 0;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const view = (await (await stack.request("/v1/imports/crash-1", { key: tenant.apiKey })).json()) as {
      chunks: { done: number };
    };
    if (view.chunks.done >= 6) {
      doneAtKill = view.chunks.done;
      break;
    }
    if (Date.now() > deadline) throw new Error("the import never got going");
    await Bun.sleep(10);
  }
  await stack.restartHost();
  expect(doneAtKill).toBeLessThan(rows / 500);

  const view = await stack.waitForImport("crash-1", tenant.apiKey, 90_000);
  expect(view.status).toBe("completed_with_errors");
  expect(view.rows).toMatchObject({ total: rows, accepted: rows - badLines.size, rejected: badLines.size });
  expect(view.chunks).toEqual({ total: 60, done: 60 });
  const [counted] = await stack.warehouse.sql`
    select (select count(*)::int from ad_events where tenant_id = ${tenant.id}) as events,
      (select count(*)::int from import_chunks where tenant_id = ${tenant.id} and import_id = 'crash-1') as chunks,
      (select count(*)::int from import_errors where tenant_id = ${tenant.id} and import_id = 'crash-1') as errors,
      (select coalesce(sum(impressions + views + clicks + conversions), 0)::int from ad_rollup_day
        where tenant_id = ${tenant.id}) as folded`;
  expect(counted).toEqual({
    events: rows - badLines.size,
    chunks: 60,
    errors: badLines.size,
    folded: rows - badLines.size,
  });
}, 120_000);

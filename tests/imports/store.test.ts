// The import actor's bookkeeping for messages carrying several chunks, against a real Postgres: each chunk is
// counted once by number, however the chunks were grouped into messages and however often they arrive.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type ChunkTally, recordChunks, recordSeal } from "../../actors/import/store.ts";
import type { ImportSettings, RowReject } from "../../src/domain/imports/messages.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import { throwawayDatabase } from "../warehouse/helpers.ts";

const target = throwawayDatabase();
let wh: Warehouse;
const TENANT = "store-test";
const settings: ImportSettings = {
  maxRejectRatio: 0.5,
  fileName: null,
  createdAt: Date.now(),
  columnMapping: null,
};

beforeAll(async () => {
  await migrate(target.url);
  wh = openWarehouse(target.url, { max: 2 });
  await wh.sql`insert into tenants (id, name, api_key_hash) values (${TENANT}, 'store test', ${randomBytes(32).toString("hex")})`;
});
afterAll(async () => {
  await wh?.close();
  await target.drop();
});

/** Chunk `n` of a file of 10-line chunks: lines 10n+2 … 10n+11, the last line of each rejected. */
function tally(n: number): ChunkTally {
  const firstLine = 10 * n + 2;
  const reject: RowReject = {
    line: firstLine + 9,
    column: "kind",
    reason: "kind must be one of …",
    raw: "x",
  };
  return { chunk: n, accepted: 9, rejected: [reject], firstLine, lastLine: firstLine + 9 };
}

describe("booking several chunks at once", () => {
  test("overlapping and repeated messages count each chunk once; the last one ends the import", async () => {
    const importId = "multi-1";
    const first = await recordChunks(wh.sql, TENANT, importId, settings, [tally(0), tally(1)], Date.now());
    expect(first).toMatchObject({ counted: true, finished: false });
    expect(first.copy).toMatchObject({ chunksDone: 2, rowsAccepted: 18, rowsRejected: 2 });
    expect(first.storedErrors.map((error) => error.line)).toEqual([11, 21]);

    // Chunk 1 again, grouped with a new chunk 2: only chunk 2 is added; chunk 1's stored error is reported.
    const overlap = await recordChunks(wh.sql, TENANT, importId, settings, [tally(1), tally(2)], Date.now());
    expect(overlap).toMatchObject({ counted: true });
    expect(overlap.copy).toMatchObject({ chunksDone: 3, rowsAccepted: 27, rowsRejected: 3 });
    expect(overlap.storedErrors.map((error) => error.line)).toEqual([21, 31]);

    // Everything again: nothing changes.
    const again = await recordChunks(wh.sql, TENANT, importId, settings, [0, 1, 2].map(tally), Date.now());
    expect(again).toMatchObject({ counted: false, finished: false });
    expect(again.copy).toMatchObject({ chunksDone: 3, rowsAccepted: 27, rowsRejected: 3 });
    expect(again.storedErrors.map((error) => error.line)).toEqual([11, 21, 31]);

    const sealed = await recordSeal(wh.sql, TENANT, importId, settings, {
      chunksTotal: 4,
      bytes: 1,
      error: null,
    });
    expect(sealed.finished).toBe(false);
    const last = await recordChunks(wh.sql, TENANT, importId, settings, [tally(2), tally(3)], Date.now());
    expect(last).toMatchObject({ counted: true, finished: true });
    expect(last.copy).toMatchObject({ status: "completed_with_errors", chunksDone: 4, rowsAccepted: 36 });
    expect(last.copy.finishedAt).toBeGreaterThan(last.copy.startedAt as number);

    const [counts] = await wh.sql<{ chunks: number; errors: number }[]>`
      select (select count(*)::int from import_chunks where import_id = ${importId}) as chunks,
        (select count(*)::int from import_errors where import_id = ${importId}) as errors`;
    expect(counts).toEqual({ chunks: 4, errors: 4 });
  });
});

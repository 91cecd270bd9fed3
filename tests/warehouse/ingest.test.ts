// The warehouse half of ingestion: partitions per batch day (cached, and recovered when the cache is wrong),
// runs of consecutive days.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { consecutiveRuns, PartitionCache, storeBatch } from "../../src/warehouse/ingest.ts";
import { openTestWarehouse, type TestWarehouse } from "../domain/query/support.ts";
import { makeEvents } from "../events/support.ts";

let warehouse: TestWarehouse;
beforeAll(async () => {
  warehouse = await openTestWarehouse();
});
afterAll(() => warehouse?.close());

const DAY = 86_400_000;

describe("partitions for ingestion", () => {
  test("consecutive days are grouped into runs", () => {
    expect(consecutiveRuns([])).toEqual([]);
    expect(
      consecutiveRuns(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-03", "2026-03-05", "2026-03-06"]),
    ).toEqual([
      ["2026-02-27", "2026-03-01"],
      ["2026-03-03", "2026-03-03"],
      ["2026-03-05", "2026-03-06"],
    ]);
  });

  test("a day the cache believes in but whose partition was dropped is recreated, and the write succeeds", async () => {
    const day = Date.now() - 200 * DAY;
    const events = makeEvents(20, { from: day, to: day + 1000, seed: 3 }).map((e) => ({
      ...e,
      eventId: e.id,
      ts: new Date(e.ts),
    }));
    const cache = new PartitionCache();
    expect(await cache.ensureFor(warehouse.wh.db, events)).toBe(2);
    expect(await cache.ensureFor(warehouse.wh.db, events)).toBe(0);
    const suffix = new Date(day).toISOString().slice(0, 10).replaceAll("-", "");
    await warehouse.wh.sql.unsafe(`DROP TABLE ad_events_p${suffix}, ad_rollup_minute_p${suffix}`);
    const capture = { attemptId: crypto.randomUUID(), batchId: "b_0", since: new Date() };
    const stored = await storeBatch(warehouse.wh.db, cache, "dropped", events, capture);
    expect(stored.inserted).toBe(20);
  });
});

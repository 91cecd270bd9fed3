import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import { ensureAllDayPartitions } from "../../src/warehouse/partitions.ts";
import { adEvents } from "../../src/warehouse/schema.ts";

// The embedded fallback when no Postgres server exists: PGlite behind pglite-socket, one connection at a time.
let pglite: PGlite;
let server: PGLiteSocketServer;
let url: string;
let wh: Warehouse;

beforeAll(async () => {
  pglite = await PGlite.create();
  server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0 });
  await server.start();
  url = `postgres://postgres@${server.getServerConn()}/postgres`;
}, 60_000);

afterAll(async () => {
  await wh?.close();
  await server?.stop();
  await pglite?.close();
});

describe("warehouse on embedded PGlite", () => {
  test("migrations apply, and re-applying is a no-op", async () => {
    expect((await migrate(url)).applied).toEqual([
      "0000_warehouse",
      "0001_day_partitions",
      "0002_leaderboard_outbox",
      "0003_day_campaign_rollup",
    ]);
    expect((await migrate(url)).applied).toEqual([]);
  });

  test("partitions, idempotent inserts and out-of-range errors work through a pool of one", async () => {
    wh = openWarehouse(url, { max: 1 });
    expect(await ensureAllDayPartitions(wh.db, "2026-11-25", "2026-11-26")).toBe(6);
    expect(await ensureAllDayPartitions(wh.db, "2026-11-25", "2026-11-26")).toBe(0);

    const row = {
      tenantId: "t1",
      eventId: "e1",
      ts: new Date("2026-11-25T12:00:00Z"),
      kind: "click" as const,
      channel: "google",
      campaign: "c",
      ad: "a",
      country: "US",
      city: "NYC",
    };
    const inserted = await wh.db.insert(adEvents).values([row, row]).onConflictDoNothing().returning();
    expect(inserted).toHaveLength(1);

    const outside = await wh.db
      .insert(adEvents)
      .values({ ...row, ts: new Date("2030-01-01T00:00:00Z") })
      .then(() => null)
      .catch((error: { cause?: { code?: string } }) => error.cause?.code);
    expect(outside).toBe("23514");
  });
});

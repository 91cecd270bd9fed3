import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import { ensurePartitions } from "../../src/warehouse/partitions.ts";
import {
  adRollupHour,
  importChunks,
  importErrors,
  imports,
  influencerMetrics,
  tenants,
} from "../../src/warehouse/schema.ts";
import { throwawayDatabase } from "./helpers.ts";

const target = throwawayDatabase();
let wh: Warehouse;
const keyHash = (key: string) => createHash("sha256").update(key).digest("hex");

/** The SQLSTATE a statement fails with (drizzle keeps the Postgres error as `cause`), or null if it succeeds. */
async function sqlState(statement: PromiseLike<unknown>): Promise<string | null> {
  try {
    await statement;
    return null;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? "no-sqlstate";
  }
}

beforeAll(async () => {
  await migrate(target.url);
  wh = openWarehouse(target.url, { max: 2 });
});
afterAll(async () => {
  await wh?.close();
  await target.drop();
});

describe("warehouse schema", () => {
  test("tenants store only a SHA-256 hex hash of the key, unique, with default limits", async () => {
    const [row] = await wh.db
      .insert(tenants)
      .values({ id: "acme", name: "Acme", apiKeyHash: keyHash("fw_secret") })
      .returning();
    expect(row).toMatchObject({
      concurrencyLimit: 4,
      rateLimit: 600,
      rateLimitWindowSeconds: 60,
      disabledAt: null,
    });
    expect(row?.createdAt).toBeInstanceOf(Date);
    const duplicate = wh.db
      .insert(tenants)
      .values({ id: "other", name: "Other", apiKeyHash: keyHash("fw_secret") });
    expect(await sqlState(duplicate)).toBe("23505"); // unique_violation
    const plainKey = wh.db.insert(tenants).values({ id: "plain", name: "Plain", apiKeyHash: "fw_secret" });
    expect(await sqlState(plainKey)).toBe("23514"); // check_violation
  });

  test("rollups upsert by adding to the counters on the full key", async () => {
    const bucket = new Date("2026-11-25T10:00:00Z");
    const key = {
      tenantId: "acme",
      bucket,
      channel: "google",
      campaign: "c",
      ad: "a",
      country: "US",
      city: "NYC",
    };
    for (const clicks of [2, 3]) {
      await wh.db
        .insert(adRollupHour)
        .values({ ...key, clicks, spend: "0.25" })
        .onConflictDoUpdate({
          target: [
            adRollupHour.tenantId,
            adRollupHour.bucket,
            adRollupHour.channel,
            adRollupHour.campaign,
            adRollupHour.ad,
            adRollupHour.country,
            adRollupHour.city,
          ],
          set: {
            clicks: sql`${adRollupHour.clicks} + excluded.clicks`,
            spend: sql`${adRollupHour.spend} + excluded.spend`,
          },
        });
    }
    const rows = await wh.db.select().from(adRollupHour).where(eq(adRollupHour.tenantId, "acme"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ clicks: 5, impressions: 0, spend: "0.500000", bucket });
  });

  test("influencer points: a repeated (influencer, ts) is ignored", async () => {
    await ensurePartitions(wh.db, "influencer_metrics", "2026-11-25", "2026-11-25");
    const point = {
      tenantId: "acme",
      influencerId: "ig:1",
      ts: new Date("2026-11-25T10:00:01Z"),
      followers: 10,
    };
    const first = await wh.db.insert(influencerMetrics).values(point).onConflictDoNothing().returning();
    const again = await wh.db
      .insert(influencerMetrics)
      .values({ ...point, followers: 11 })
      .onConflictDoNothing()
      .returning();
    expect([first.length, again.length]).toEqual([1, 0]);
    expect(first[0]).toMatchObject({ followers: 10, likes: null });
  });

  test("imports: chunk rows count a chunk once, and deleting an import removes its chunks and errors", async () => {
    await wh.db
      .insert(imports)
      .values({ tenantId: "acme", id: "imp1", fileName: "events.csv", columnMapping: { when: "ts" } });
    const chunk = { tenantId: "acme", importId: "imp1", chunk: 0, rowsAccepted: 499, rowsRejected: 1 };
    const landed = await wh.db.insert(importChunks).values(chunk).onConflictDoNothing().returning();
    const redelivered = await wh.db.insert(importChunks).values(chunk).onConflictDoNothing().returning();
    expect([landed.length, redelivered.length]).toEqual([1, 0]);
    await wh.db.insert(importErrors).values({
      tenantId: "acme",
      importId: "imp1",
      line: 7,
      column: "country",
      reason: "not ISO 3166",
      raw: "x",
    });

    const [row] = await wh.db.select().from(imports).where(eq(imports.id, "imp1"));
    expect(row).toMatchObject({
      status: "queued",
      chunksTotal: null,
      maxRejectRatio: 0.1,
      columnMapping: { when: "ts" },
    });
    const badStatus = wh.db
      .update(imports)
      .set({ status: "paused" as never })
      .where(eq(imports.id, "imp1"));
    expect(await sqlState(badStatus)).toBe("23514");

    await wh.db.delete(imports).where(eq(imports.id, "imp1"));
    const [left] = await wh.sql`
      select (select count(*) from import_chunks)::int + (select count(*) from import_errors)::int as n`;
    expect(left?.n).toBe(0);
  });

  test("the raw client accepts Date parameters and returns timestamps in UTC text", async () => {
    await ensurePartitions(wh.db, "ad_events", "2026-11-25", "2026-11-25");
    const ts = new Date("2026-11-25T10:00:00.123Z");
    const rows = [
      {
        tenant_id: "acme",
        event_id: "raw-1",
        ts,
        kind: "view",
        channel: "email",
        campaign: "c",
        ad: "a",
        country: "FR",
        city: "Lyon",
      },
    ];
    await wh.sql`insert into ad_events ${wh.sql(rows)}`;
    const [row] = await wh.sql`select ts from ad_events where event_id = 'raw-1' and ts = ${ts}`;
    expect(row?.ts).toBe("2026-11-25 10:00:00.123+00");
    expect(new Date(row?.ts).getTime()).toBe(ts.getTime());
  });

  test("an import needs an existing tenant", async () => {
    const orphan = wh.db.insert(imports).values({ tenantId: "nobody", id: "imp2" });
    expect(await sqlState(orphan)).toBe("23503"); // foreign_key_violation
  });
});

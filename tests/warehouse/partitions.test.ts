import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import {
  dayPartitionName,
  ensureAllDayPartitions,
  ensurePartitions,
  utcDay,
} from "../../src/warehouse/partitions.ts";
import { adEvents, type NewAdEvent } from "../../src/warehouse/schema.ts";
import { throwawayDatabase } from "./helpers.ts";

const target = throwawayDatabase();
let wh: Warehouse;

beforeAll(async () => {
  await migrate(target.url);
  wh = openWarehouse(target.url, { max: 4 });
});

afterAll(async () => {
  await wh?.close();
  await target.drop();
});

/** Partition name -> its bound expression, for one parent. */
async function partitionsOf(parent: string): Promise<Record<string, string>> {
  const rows = await wh.sql<{ name: string; bound: string }[]>`
    select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = ${parent}::regclass and c.relkind = 'r'
    order by c.relname`;
  return Object.fromEntries(rows.map((r) => [r.name, r.bound]));
}

const event = (overrides: Partial<NewAdEvent> = {}): NewAdEvent => ({
  tenantId: "t1",
  eventId: "e1",
  ts: new Date("2026-11-25T12:00:00Z"),
  kind: "click",
  channel: "google",
  campaign: "black-friday",
  ad: "ad-1",
  country: "US",
  city: "New York",
  ...overrides,
});

describe("fairway_ensure_day_partitions", () => {
  test("creates one partition per UTC day, both ends included, with exact bounds", async () => {
    expect(await ensurePartitions(wh.db, "ad_events", "2026-11-24", "2026-11-26")).toBe(3);
    expect(await partitionsOf("ad_events")).toEqual({
      ad_events_p20261124: "FOR VALUES FROM ('2026-11-24 00:00:00+00') TO ('2026-11-25 00:00:00+00')",
      ad_events_p20261125: "FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00')",
      ad_events_p20261126: "FOR VALUES FROM ('2026-11-26 00:00:00+00') TO ('2026-11-27 00:00:00+00')",
    });
  });

  test("is idempotent: a second call creates nothing, an overlapping one only the new days", async () => {
    expect(await ensurePartitions(wh.db, "ad_events", "2026-11-24", "2026-11-26")).toBe(0);
    expect(await ensurePartitions(wh.db, "ad_events", "2026-11-26", "2026-11-28")).toBe(2);
    expect(Object.keys(await partitionsOf("ad_events"))).toHaveLength(5);
  });

  test("is safe under concurrent callers with overlapping ranges", async () => {
    // Separate connections, so the calls really race inside Postgres.
    const clients = Array.from({ length: 6 }, () => postgres(target.url, { max: 1, onnotice: () => {} }));
    try {
      const created = await Promise.all(
        clients.map(async (sql, i) => {
          const from = `2027-01-${String(1 + i).padStart(2, "0")}`;
          const [row] = await sql`
            select fairway_ensure_day_partitions('influencer_metrics', ${from}::date, '2027-01-20'::date) as n`;
          return row?.n as number;
        }),
      );
      // Every day from Jan 1 to Jan 20 exists exactly once, and the callers together created each once.
      expect(created.reduce((a, b) => a + b, 0)).toBe(20);
      const names = Object.keys(await partitionsOf("influencer_metrics"));
      expect(names).toEqual(
        Array.from({ length: 20 }, (_, d) =>
          dayPartitionName("influencer_metrics", `2027-01-${String(d + 1).padStart(2, "0")}`),
        ),
      );
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
    }
  });

  test("ensureAllDayPartitions covers raw events, minute rollups and influencer points", async () => {
    expect(await ensureAllDayPartitions(wh.db, new Date("2027-03-01T23:00:00Z"), "2027-03-02")).toBe(6);
    expect(Object.keys(await partitionsOf("ad_rollup_minute"))).toEqual([
      "ad_rollup_minute_p20270301",
      "ad_rollup_minute_p20270302",
    ]);
  });

  test("refuses an inverted range, a non-partitioned table and a bad day", async () => {
    await expect(ensurePartitions(wh.db, "ad_events", "2026-11-26", "2026-11-24")).rejects.toThrow(
      RangeError,
    );
    await expect(
      wh.sql`select fairway_ensure_day_partitions('ad_events', '2026-11-26', '2026-11-24')`,
    ).rejects.toThrow("fairway_ensure_day_partitions: to_day 2026-11-24 is before from_day 2026-11-26");
    await expect(
      wh.sql`select fairway_ensure_day_partitions('tenants', '2026-11-24', '2026-11-24')`,
    ).rejects.toThrow("fairway_ensure_day_partitions: tenants is not a partitioned table");
    expect(() => utcDay("2026-13-45")).toThrow(RangeError);
    expect(() => utcDay("25/11/2026")).toThrow(RangeError);
    expect(() => utcDay("2026-02-30")).toThrow(RangeError);
    expect(utcDay(new Date("2026-11-25T23:59:59.999-01:00"))).toBe("2026-11-26");
  });
});

describe("ad_events", () => {
  test("rows land in their UTC day's partition, boundaries included", async () => {
    await wh.db
      .insert(adEvents)
      .values([
        event({ eventId: "last-ms", ts: new Date("2026-11-25T23:59:59.999Z") }),
        event({ eventId: "midnight", ts: new Date("2026-11-26T00:00:00.000Z") }),
      ]);
    const rows = await wh.sql`
      select event_id, tableoid::regclass::text as part from ad_events
      where event_id in ('last-ms', 'midnight') order by event_id`;
    expect(rows.map((r) => [r.event_id, r.part])).toEqual([
      ["last-ms", "ad_events_p20261125"],
      ["midnight", "ad_events_p20261126"],
    ]);
  });

  test("ON CONFLICT DO NOTHING ignores a duplicate (tenant, event id, ts)", async () => {
    const first = await wh.db
      .insert(adEvents)
      .values(event({ eventId: "dup", cost: "1.5" }))
      .onConflictDoNothing()
      .returning({ id: adEvents.eventId });
    const again = await wh.db
      .insert(adEvents)
      .values([event({ eventId: "dup", cost: "99" }), event({ eventId: "dup", tenantId: "t2" })])
      .onConflictDoNothing()
      .returning({ tenant: adEvents.tenantId });
    expect(first).toEqual([{ id: "dup" }]);
    expect(again).toEqual([{ tenant: "t2" }]); // same id under another tenant is another event
    const [row] = await wh.sql`select cost from ad_events where tenant_id = 't1' and event_id = 'dup'`;
    expect(row?.cost).toBe("1.500000");
  });

  test("a row outside every partition fails with Postgres's own error", async () => {
    const error = await wh.db
      .insert(adEvents)
      .values(event({ eventId: "far", ts: new Date("2031-01-01T00:00:00Z") }))
      .then(() => null)
      .catch((e: unknown) => e);
    const cause = (error as { cause?: postgres.PostgresError }).cause ?? (error as postgres.PostgresError);
    expect(cause).toBeInstanceOf(postgres.PostgresError);
    expect(cause.code).toBe("23514"); // check_violation
    expect(cause.message).toBe('no partition of relation "ad_events" found for row');
  });

  test("an unknown kind is refused by the check constraint", async () => {
    const insert = wh.sql`
      insert into ad_events (tenant_id, event_id, ts, kind, channel, campaign, ad, country, city)
      values ('t1', 'bad-kind', '2026-11-25T01:00:00Z', 'share', 'google', 'c', 'a', 'US', 'NYC')`;
    await expect(insert).rejects.toThrow(/ad_events_kind_known/);
  });
});

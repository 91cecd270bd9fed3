import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openWarehouse } from "../../src/warehouse/db.ts";
import { MIGRATIONS_FOLDER, migrate } from "../../src/warehouse/migrate.ts";
import { throwawayDatabase } from "./helpers.ts";

const ALL_MIGRATIONS = [
  "0000_warehouse",
  "0001_day_partitions",
  "0002_leaderboard_outbox",
  "0003_day_campaign_rollup",
];
const TABLES = [
  "ad_events",
  "ad_rollup_day",
  "ad_rollup_day_campaign",
  "ad_rollup_hour",
  "ad_rollup_minute",
  "import_chunks",
  "import_errors",
  "imports",
  "influencer_metrics",
  "influencers",
  "leaderboard_outbox",
  "tenants",
];

describe("migrate", () => {
  const target = throwawayDatabase();
  afterAll(() => target.drop());

  test("creates the database and applies every migration on an empty server", async () => {
    const result = await migrate(target.url);
    expect(result).toEqual({ createdDatabase: true, applied: ALL_MIGRATIONS, total: ALL_MIGRATIONS.length });
  });

  test("re-applying is a no-op", async () => {
    const before = await catalogFingerprint(target.url);
    const result = await migrate(target.url);
    expect(result).toEqual({ createdDatabase: false, applied: [], total: ALL_MIGRATIONS.length });
    expect(await catalogFingerprint(target.url)).toEqual(before);
  });

  test("concurrent migrators on a fresh database apply each migration once", async () => {
    const fresh = throwawayDatabase();
    try {
      const results = await Promise.all([migrate(fresh.url), migrate(fresh.url), migrate(fresh.url)]);
      expect(results.filter((r) => r.createdDatabase)).toHaveLength(1);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(ALL_MIGRATIONS);
      const sql = postgres(fresh.url, { max: 1 });
      const [row] = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await sql.end();
      expect(row?.n).toBe(ALL_MIGRATIONS.length);
    } finally {
      await fresh.drop();
    }
  });

  test("creates exactly the expected tables, with the day-partitioned ones partitioned by range", async () => {
    const sql = postgres(target.url, { max: 1 });
    try {
      const rows = await sql<{ name: string; kind: string; key: string | null }[]>`
        select c.relname as name, c.relkind as kind, pg_get_partkeydef(c.oid) as key
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
        order by c.relname`;
      expect(rows.map((r) => r.name)).toEqual(TABLES);
      const partitioned = Object.fromEntries(rows.filter((r) => r.kind === "p").map((r) => [r.name, r.key]));
      expect(partitioned).toEqual({
        ad_events: "RANGE (ts)",
        ad_rollup_minute: "RANGE (bucket)",
        influencer_metrics: "RANGE (ts)",
      });
    } finally {
      await sql.end();
    }
  });

  test("tenant_id leads every primary key and every index (tenants is keyed by its id)", async () => {
    const sql = postgres(target.url, { max: 1 });
    try {
      const indexes = await sql<{ table: string; index: string; primary: boolean; first: string }[]>`
        select t.relname as table, i.relname as index, x.indisprimary as primary, a.attname as first
        from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_class t on t.oid = x.indrelid
        join pg_namespace n on n.oid = t.relnamespace
        join pg_attribute a on a.attrelid = t.oid and a.attnum = x.indkey[0]
        where n.nspname = 'public'`;
      const primaryKeyTables = indexes.filter((i) => i.primary).map((i) => i.table);
      expect(primaryKeyTables.sort()).toEqual(TABLES);
      const offenders = indexes.filter((i) =>
        i.table === "tenants"
          ? !(i.first === "id" || i.index === "tenants_api_key_hash_key")
          : i.first !== "tenant_id",
      );
      expect(offenders).toEqual([]);
    } finally {
      await sql.end();
    }
  });

  test("the campaign day rollup starts with the sums the full day rollup already holds", async () => {
    const fresh = throwawayDatabase();
    // The migrations before it, applied to a database that already has day rollups.
    const before = mkdtempSync(join(tmpdir(), "fairway-migrations-"));
    cpSync(MIGRATIONS_FOLDER, before, { recursive: true });
    const journalPath = join(before, "meta/_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
    const upTo = journal.entries.findIndex((entry) => entry.tag === "0003_day_campaign_rollup");
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
    const sql = postgres(fresh.url, { max: 1, onnotice: () => {} });
    try {
      await migrate(fresh.url, { migrationsFolder: before });
      await sql`insert into ad_rollup_day (tenant_id, bucket, channel, campaign, ad, country, city, clicks, spend)
        values ('t1', '2026-11-24T00:00:00Z', 'google', 'spring', 'a1', 'US', 'Boston', 2, 0.5),
               ('t1', '2026-11-24T00:00:00Z', 'google', 'spring', 'a2', 'US', 'Austin', 3, 0.25),
               ('t1', '2026-11-24T00:00:00Z', 'google', 'spring', 'a1', 'FR', 'Paris', 1, 0),
               ('t2', '2026-11-24T00:00:00Z', 'google', 'spring', 'a1', 'US', 'Boston', 7, 1)`;
      expect((await migrate(fresh.url)).applied).toEqual(["0003_day_campaign_rollup"]);
      const rows = await sql`select tenant_id, channel, campaign, country, clicks::int, spend::text
        from ad_rollup_day_campaign order by tenant_id, country`;
      expect(rows.map((row) => ({ ...row }))).toEqual([
        {
          tenant_id: "t1",
          channel: "google",
          campaign: "spring",
          country: "FR",
          clicks: 1,
          spend: "0.000000",
        },
        {
          tenant_id: "t1",
          channel: "google",
          campaign: "spring",
          country: "US",
          clicks: 5,
          spend: "0.750000",
        },
        {
          tenant_id: "t2",
          channel: "google",
          campaign: "spring",
          country: "US",
          clicks: 7,
          spend: "1.000000",
        },
      ]);
    } finally {
      await sql.end();
      rmSync(before, { recursive: true, force: true });
      await fresh.drop();
    }
  });

  test("warehouse sessions run in UTC so day buckets do not depend on the server's zone", async () => {
    const wh = openWarehouse(target.url, { max: 1 });
    try {
      const [row] = await wh.sql`select current_setting('TimeZone') as tz`;
      expect(row?.tz).toBe("UTC");
    } finally {
      await wh.close();
    }
  });
});

/** Every column, constraint and index in the public schema, to prove a second run changed nothing. */
async function catalogFingerprint(url: string): Promise<unknown> {
  const sql = postgres(url, { max: 1 });
  try {
    const columns = await sql`
      select table_name, column_name, data_type, column_default, is_nullable
      from information_schema.columns where table_schema = 'public' order by 1, 2`;
    const constraints = await sql`
      select conrelid::regclass::text as t, conname, pg_get_constraintdef(oid) as def
      from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`;
    const indexes =
      await sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`;
    const functions = await sql`
      select p.proname, md5(p.prosrc) as src from pg_proc p where p.pronamespace = 'public'::regnamespace`;
    const migrations = await sql`select hash, created_at from drizzle.__drizzle_migrations order by id`;
    return [...[columns, constraints, indexes, functions, migrations].map((rows) => [...rows])];
  } finally {
    await sql.end();
  }
}

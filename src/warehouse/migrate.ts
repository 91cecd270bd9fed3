import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate as drizzleMigrate } from "drizzle-orm/postgres-js/migrator";
import { createDatabase, isMissingDatabaseError } from "./database.ts";
import { openWarehouse, type Warehouse } from "./db.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

// drizzle's own bookkeeping table (its defaults, spelled out because we read it).
const MIGRATIONS_SCHEMA = "drizzle";
const MIGRATIONS_TABLE = "__drizzle_migrations";
// Session advisory lock key ('FWAY', 'MIGR') so concurrent migrators (dev stack, test runner) queue up.
const LOCK_KEY = [1180123481, 1296648018] as const;

export interface MigrateResult {
  /** Whether the database itself had to be created. */
  createdDatabase: boolean;
  /** Tags of the migrations this call applied, in order (empty when already up to date). */
  applied: string[];
  /** Number of migrations the folder holds. */
  total: number;
}

interface JournalEntry {
  tag: string;
  when: number;
}

function readJournal(folder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, "utf8")) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/**
 * Creates the database if missing and applies every pending migration, in one transaction.
 * Uses a single connection, so it works against the embedded PGlite fallback too.
 *
 * @example const { applied } = await migrate("postgres://postgres@127.0.0.1:5432/fairway");
 */
export async function migrate(
  databaseUrl: string,
  options: { migrationsFolder?: string } = {},
): Promise<MigrateResult> {
  const folder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const journal = readJournal(folder);
  const { wh, createdDatabase } = await connectCreatingDatabase(databaseUrl);
  try {
    await wh.db.execute(sql`select pg_advisory_lock(${LOCK_KEY[0]}, ${LOCK_KEY[1]})`);
    try {
      // drizzle applies every journal entry newer than the newest one recorded; mirror that to report them.
      const last = await lastAppliedMillis(wh.sql);
      const applied = journal.filter((entry) => entry.when > last).map((entry) => entry.tag);
      await drizzleMigrate(wh.db, {
        migrationsFolder: folder,
        migrationsSchema: MIGRATIONS_SCHEMA,
        migrationsTable: MIGRATIONS_TABLE,
      });
      return { createdDatabase, applied, total: journal.length };
    } finally {
      // Closing the connection releases the lock too, so a failed unlock must not hide the real error.
      await wh.db.execute(sql`select pg_advisory_unlock(${LOCK_KEY[0]}, ${LOCK_KEY[1]})`).catch(() => {});
    }
  } finally {
    await wh.close();
  }
}

async function lastAppliedMillis(client: Warehouse["sql"]): Promise<number> {
  const table = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;
  const [exists] = await client`select to_regclass(${table}) is not null as ok`;
  if (!exists?.ok) return Number.NEGATIVE_INFINITY;
  const [row] = await client.unsafe(`select max(created_at) as last from ${table}`);
  return row?.last == null ? Number.NEGATIVE_INFINITY : Number(row.last);
}

/**
 * One connection to the target database, creating the database first when it is missing. The embedded PGlite
 * fallback serves a single connection at a time, so no second connection is opened when the database exists.
 */
async function connectCreatingDatabase(
  databaseUrl: string,
): Promise<{ wh: Warehouse; createdDatabase: boolean }> {
  const open = () => openWarehouse(databaseUrl, { max: 1, applicationName: "fairway-migrate" });
  const wh = open();
  try {
    await wh.sql`select 1`;
    return { wh, createdDatabase: false };
  } catch (error) {
    await wh.close();
    if (!isMissingDatabaseError(error)) throw error;
  }
  const createdDatabase = await createDatabase(databaseUrl);
  return { wh: open(), createdDatabase };
}

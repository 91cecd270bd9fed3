import postgres from "postgres";

/** Every cluster has this database; CREATE / DROP DATABASE are issued from it. */
const MAINTENANCE_DB = "postgres";

/** The same URL pointing at another database on the same server. */
export function withDatabaseName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** The database a URL names (postgres.js falls back to the user name when the path is empty). */
export function databaseNameOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || "postgres";
}

/** `host:port/db` without credentials, for log lines. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || "5432"}/${databaseNameOf(databaseUrl)}`;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

function isPostgresError(error: unknown, code: string): boolean {
  return error instanceof postgres.PostgresError && error.code === code;
}

// One connection at a time: the embedded PGlite fallback serves no more.
const adminClient = (databaseUrl: string, database: string) =>
  postgres(databaseUrl, { database, max: 1, onnotice: () => {}, connect_timeout: 10 });

/** True when a connection failed because the database it names does not exist (SQLSTATE 3D000). */
export function isMissingDatabaseError(error: unknown): boolean {
  return isPostgresError(error, "3D000");
}

/**
 * Creates the database the URL names, from the maintenance database. Returns false when it already existed,
 * which also covers losing a race with another process creating it.
 */
export async function createDatabase(databaseUrl: string): Promise<boolean> {
  const admin = adminClient(databaseUrl, MAINTENANCE_DB);
  try {
    await admin.unsafe(`CREATE DATABASE ${quoteIdent(databaseNameOf(databaseUrl))}`);
    return true;
  } catch (error) {
    // duplicate_database, or a unique violation on pg_database when a concurrent CREATE commits first.
    if (isPostgresError(error, "42P04") || isPostgresError(error, "23505")) return false;
    throw error;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Creates the database the URL names unless it exists. Returns whether it created it. */
export async function createDatabaseIfMissing(databaseUrl: string): Promise<boolean> {
  // Try the database itself first: a server where we may not create databases still works when it exists.
  const probe = adminClient(databaseUrl, databaseNameOf(databaseUrl));
  try {
    await probe`select 1`;
    return false;
  } catch (error) {
    if (!isMissingDatabaseError(error)) throw error;
  } finally {
    await probe.end({ timeout: 5 });
  }
  return createDatabase(databaseUrl);
}

/** Drops the database the URL names, disconnecting its sessions. For throwaway test databases. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = adminClient(databaseUrl, MAINTENANCE_DB);
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(databaseNameOf(databaseUrl))} WITH (FORCE)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

import { dropDatabase, withDatabaseName } from "../../src/warehouse/database.ts";

/** The server the suite runs against (the test runner exports DATABASE_URL). */
export const baseDatabaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/fairway_test";

/** A fresh database name on the test server; nothing exists until someone creates it. */
export function throwawayDatabase(): { url: string; drop: () => Promise<void> } {
  const name = `fairway_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const url = withDatabaseName(baseDatabaseUrl, name);
  return { url, drop: () => dropDatabase(url) };
}

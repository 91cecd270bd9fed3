// `npm run migrate`: creates the database named by DATABASE_URL if needed and applies pending migrations.
import { describeDatabaseUrl } from "../warehouse/database.ts";
import { databaseUrlFromEnv } from "../warehouse/db.ts";
import { migrate } from "../warehouse/migrate.ts";

const databaseUrl = databaseUrlFromEnv();
const where = describeDatabaseUrl(databaseUrl);
try {
  const { createdDatabase, applied, total } = await migrate(databaseUrl);
  const created = createdDatabase ? " (database created)" : "";
  const what = applied.length ? `applied ${applied.join(", ")}` : `up to date, ${total} migrations`;
  console.log(`migrate ${where}${created}: ${what}`);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`migrate ${where}: failed: ${message}`);
  process.exit(1);
}

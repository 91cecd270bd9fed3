import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` diffs src/warehouse/schema.ts against migrations/meta and writes the next migration.
// Partitioning is not modelled by drizzle-kit: see the note at the top of migrations/0000_*.sql.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/warehouse/schema.ts",
  out: "./migrations",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway" },
});

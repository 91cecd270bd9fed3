// The warehouse room: schema, connections, migrations and partition upkeep. Node / Bun only.
export * from "./database.ts";
export * from "./db.ts";
export * from "./migrate.ts";
export * from "./partitions.ts";
export * from "./schema.ts";

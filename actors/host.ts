import { Hono } from "hono";
import type { Sql } from "postgres";
import { checkPostgres } from "./health.ts";

export interface ActorsHostOptions {
  sql: Sql;
}

/** The actors host as a Hono app: `GET /health` and, per registered actor, `POST /actors/<name>`. */
export function createActorsApp(options: ActorsHostOptions): Hono {
  const app = new Hono();

  app.get("/health", async (c) => {
    const postgres = await checkPostgres(options.sql);
    return c.json({ ok: postgres.ok, postgres }, postgres.ok ? 200 : 503);
  });

  return app;
}

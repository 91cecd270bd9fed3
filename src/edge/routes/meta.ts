import type { Hono } from "hono";
import { catalogueMeta } from "../../domain/query/catalogue.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { tenantAuth } from "../middleware/tenant-auth.ts";

/** `GET /v1/meta`: the members a query may use (same for every tenant, but only for tenants). */
export function registerMeta(app: Hono<EdgeEnv>, services: EdgeServices): void {
  const meta = catalogueMeta();
  app.get("/v1/meta", tenantAuth(services), (c) => c.json(meta));
}

// The Fairway edge app: Web-standard only (it runs on Workers, Bun and Deno), built from the services it is given.
import { Hono } from "hono";
import type { EdgeEnv, EdgeServices } from "./context.ts";
import { renderError, renderNotFound } from "./errors.ts";
import { requestId } from "./middleware/request-id.ts";
import { keptMatchRouter } from "./router.ts";
import { registerAdminTenants } from "./routes/admin-tenants.ts";
import { registerAds } from "./routes/ads.ts";
import { registerDocs } from "./routes/docs.ts";
import { registerEvents } from "./routes/events.ts";
import { registerHealth } from "./routes/health.ts";
import { registerImports } from "./routes/imports.ts";
import { registerInfluencers } from "./routes/influencers.ts";
import { registerMeta } from "./routes/meta.ts";
import { registerQueries } from "./routes/queries.ts";
import { registerStats } from "./routes/stats.ts";

export type { EdgeServices } from "./context.ts";

export interface AppOptions {
  /** How long each health check may take before it counts as down. */
  healthTimeoutMs?: number;
}

/**
 * @example
 * const app = createApp({ redis: new Redis({ url, token }), actorsUrl: "http://127.0.0.1:8082" });
 * const response = await app.request("/health");
 */
export function createApp(services: EdgeServices, options: AppOptions = {}): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>({ router: keptMatchRouter() });
  app.use(requestId());
  app.onError(renderError);
  app.notFound(renderNotFound);
  registerHealth(app, services, options.healthTimeoutMs ?? 2000);
  registerDocs(app, services);
  registerAdminTenants(app, services);
  registerMeta(app, services);
  registerEvents(app, services);
  registerAds(app, services);
  // Before the queries: it times them and notes their cache outcomes.
  registerStats(app, services);
  registerQueries(app, services);
  registerInfluencers(app, services);
  registerImports(app, services);
  return app;
}

import type { Hono } from "hono";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { routeAreaDocs } from "../openapi/areas/index.ts";
import { renderDocsPage } from "../openapi/docs-page.ts";
import { openApiDocument } from "../openapi/document.ts";

/** `GET /openapi.json` and `GET /docs`: built once, on first request, from the zod schemas. */
export function registerDocs(app: Hono<EdgeEnv>, services: EdgeServices): void {
  let document: ReturnType<typeof openApiDocument> | undefined;
  let page: string | undefined;
  const doc = () => {
    document ??= openApiDocument(routeAreaDocs(services));
    return document;
  };
  app.get("/openapi.json", (c) => c.json(doc()));
  app.get("/docs", (c) => {
    page ??= renderDocsPage(doc());
    return c.html(page);
  });
}

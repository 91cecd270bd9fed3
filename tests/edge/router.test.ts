// The app's router keeps each method and path's match: it must answer exactly as Hono's default router does,
// the first time and every later time, with each path's own parameters.
import { expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { Hono } from "hono";
import { createApp } from "../../src/edge/app.ts";
import { keptMatchRouter } from "../../src/edge/router.ts";

const services = { redis: new Redis({ url: "http://127.0.0.1:1", token: "unused" }) };

/** Every route's handlers and parameters for a path, named so two routers' answers compare. */
interface Routed {
  router: { match(method: string, path: string): unknown };
  routes: readonly { method: string; path: string; handler: unknown }[];
}

function described(app: Routed, method: string, path: string) {
  const [handlers, stash] = app.router.match(method, path) as [
    [unknown, Record<string, number | string>][],
    string[]?,
  ];
  return handlers.map(([handler, params]) => {
    const route = app.routes.find((r) => r.handler === handler);
    const values = Object.fromEntries(
      Object.entries(params).map(([name, at]) => [name, stash ? stash[at as number] : at]),
    );
    return [route?.method, route?.path, values];
  });
}

test("matches are the default router's, every time, for every route of the app", () => {
  const kept = createApp(services);
  const plain = new Hono();
  for (const route of kept.routes) plain.on(route.method, route.path, route.handler);
  const paths = kept.routes.map((route) => route.path.replaceAll(/:(\w+)/g, "x-$1"));
  paths.push("/v1/queries/q1", "/v1/queries/q2/events", "/v1/ads/ad-9/clicks", "/nowhere", "/v1/ads/top");
  for (let round = 0; round < 3; round++) {
    for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
      for (const path of paths) {
        expect(described(kept, method, path)).toEqual(described(plain, method, path));
      }
    }
  }
});

test("each path keeps its own parameters", async () => {
  const app = new Hono({ router: keptMatchRouter() });
  app.get("/items/:id", (c) => c.text(c.req.param("id")));
  app.get("/items/:id/parts/:part", (c) => c.text(`${c.req.param("id")}/${c.req.param("part")}`));
  for (const path of [
    "/items/a",
    "/items/b/parts/1",
    "/items/a",
    "/items/c",
    "/items/b/parts/2",
    "/items/b",
  ]) {
    expect(await (await app.request(path)).text()).toBe(path.replace("/items/", "").replace("/parts", ""));
  }
});

test("many distinct paths are still matched correctly past the bound on kept matches", async () => {
  const app = new Hono({ router: keptMatchRouter() });
  app.get("/items/:id", (c) => c.text(c.req.param("id")));
  for (let i = 0; i < 3000; i++) {
    const response = await app.request(`/items/${i % 2500}`);
    expect(await response.text()).toBe(String(i % 2500));
  }
});

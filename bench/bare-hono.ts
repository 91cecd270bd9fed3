// The baseline for `npm run bench -- query`: a bare Hono app on Bun answering the same JSON body as a cached
// query, with no auth, rate limit or Redis. PORT (0 = any), prints `bare ready <url>`.
import { Hono } from "hono";

const body = JSON.parse(process.env.BODY ?? "{}") as Record<string, unknown>;
const app = new Hono();
app.post("/v1/queries", async (c) => {
  await c.req.json();
  return c.json(body);
});
const server = Bun.serve({ port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1", fetch: app.fetch });
console.log(`bare ready ${server.url.href.replace(/\/$/, "")}`);

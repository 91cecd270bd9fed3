// Runs the edge app on Bun: `bun src/edge/bun.ts` (PORT, default 8787; HOST, default 127.0.0.1).
import { createApp } from "./app.ts";
import { EdgeConfigError, servicesFromEnv } from "./env.ts";

try {
  const app = createApp({ ...servicesFromEnv(process.env), coalesceRedis: true });
  const server = Bun.serve({
    port: Number(process.env.PORT ?? 8787),
    hostname: process.env.HOST || "127.0.0.1",
    fetch: app.fetch,
    // CSV imports stream bodies of any size (memory stays bounded by a few chunks); every other route enforces
    // its own limit while it reads.
    maxRequestBodySize: 2 ** 40,
  });
  console.log(`edge ready ${server.url.href.replace(/\/$/, "")}`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  if (!(error instanceof EdgeConfigError)) throw error;
  console.error(`edge: ${error.message}`);
  process.exit(1);
}

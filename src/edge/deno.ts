// Runs the edge app on Deno: `deno run --node-modules-dir=manual -A src/edge/deno.ts` (PORT, HOST as for Bun).
import { createApp } from "./app.ts";
import { servicesFromEnv } from "./env.ts";

// The slice of the Deno namespace used here, so the file type-checks without Deno's own types.
declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: { port: number; hostname: string; onListen(address: { hostname: string; port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

const env = Deno.env.toObject();
const app = createApp({ ...servicesFromEnv(env), coalesceRedis: true });
Deno.serve(
  {
    port: Number(env.PORT ?? 8787),
    hostname: env.HOST || "127.0.0.1",
    onListen: ({ hostname, port }) => console.log(`edge ready http://${hostname}:${port}`),
  },
  app.fetch,
);

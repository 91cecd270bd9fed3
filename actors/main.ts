// Starts the actors host: reads the environment, opens the warehouse pool, serves until SIGINT / SIGTERM.
import postgres from "postgres";
import { readActorsConfig, trimSlash } from "./config.ts";
import { createActorsApp } from "./host.ts";

const config = readActorsConfig();
const sql = postgres(config.databaseUrl, { max: config.dbPoolMax, connect_timeout: 5, onnotice: () => {} });
const app = createActorsApp({ sql });

const server = Bun.serve({ port: config.port, hostname: config.host, fetch: app.fetch });
const listenUrl = trimSlash(server.url.href);
console.log(`actors ready ${listenUrl}`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await sql.end({ timeout: 5 });
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

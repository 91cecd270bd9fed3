// Starts the actors host: reads the environment, opens the warehouse pool, serves until SIGINT / SIGTERM.
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { openWarehouse } from "../src/warehouse/db.ts";
import { readActorsConfig } from "./config.ts";
import { serveActors } from "./host.ts";
import { startInfluencerSink } from "./influencer-sink.ts";
import { readInfluencerConfig } from "./influencers/config.ts";
import { createLogger } from "./log.ts";
import { readMonitorConfig } from "./monitor/config.ts";
import { observeActors } from "./monitor/observe.ts";
import { ensureMonitorSchedule } from "./monitor.ts";
import { actors } from "./registry.ts";
import { restoreTenantsInBackground } from "./tenant-sync.ts";

const config = readActorsConfig();
const warehouse = openWarehouse(config.databaseUrl, {
  max: config.dbPoolMax,
  connectTimeoutSeconds: 5,
  applicationName: "fairway-actors",
});

const redis = new Redis({ url: config.redis.url, token: config.redis.token });
const host = serveActors({
  port: config.port,
  hostname: config.host,
  publicUrl: config.publicUrl,
  // Every delivery is recorded for monitoring (queue depth, in flight, outcomes, latencies).
  actors: observeActors(actors, redis, { namespace: readMonitorConfig().namespace }),
  warehouse,
  redis,
  qstash: new Client({ baseUrl: config.qstash.url, token: config.qstash.token }),
  receiver: new Receiver({
    currentSigningKey: config.qstash.currentSigningKey,
    nextSigningKey: config.qstash.nextSigningKey,
  }),
});
console.log(`actors ready ${host.url}`);
// The monitor runs on a QStash schedule (FAIRWAY_MONITOR_CRON); creating it again only updates it.
ensureMonitorSchedule(readMonitorConfig(), host.publicUrl).catch((error) =>
  createLogger({ service: "actors" }).warn("monitor schedule not created", { error: String(error) }),
);
// Redis holds the serving copy of every tenant; if it lost some, copy them back from Postgres.
void restoreTenantsInBackground(warehouse.sql, redis, createLogger({ service: "actors" }));

// The influencer sink drains the points stream into the warehouse in the background (actors/influencer-sink.ts).
const influencers = readInfluencerConfig();
const sink = influencers.sink.enabled
  ? startInfluencerSink({ redis, warehouse, config: influencers, log: createLogger({ service: "actors" }) })
  : undefined;

/** In-flight deliveries get this long to finish; after that they are dropped and QStash redelivers them. */
const DRAIN_MS = 10_000;

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) process.exit(1); // a second Ctrl-C means now
  stopping = true;
  const force = setTimeout(() => void host.stop(true), DRAIN_MS);
  await host.stop();
  await sink?.stop();
  clearTimeout(force);
  await warehouse.close();
  process.exit(0);
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

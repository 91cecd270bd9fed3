// The actors host: GET /health and one POST /actors/<name> route per actor.
import type { Client, Receiver } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { Hono } from "hono";
import { actorUrl, createPublisher } from "../src/publisher/index.ts";
import type { Warehouse } from "../src/warehouse/db.ts";
import type { AnyActor } from "./define.ts";
import { handleDelivery } from "./delivery.ts";
import { checkPostgres } from "./health.ts";
import { createLogger, errorFields, type Logger } from "./log.ts";

export interface ActorsHostOptions {
  actors: readonly AnyActor[];
  /** The host uses the pool but does not own it: whoever opened it closes it. */
  warehouse: Pick<Warehouse, "db" | "sql">;
  redis: Redis;
  /** Used by handlers' publisher and by `later` re-dispatches. */
  qstash: Client;
  receiver: Receiver;
  /** Base URL QStash delivers to; each actor verifies signatures for `<publicUrl>/actors/<name>`. */
  publicUrl: string;
  log?: Logger;
  maxBodyBytes?: number;
  clockToleranceSeconds?: number;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export function createActorsApp(options: ActorsHostOptions): Hono {
  const log = options.log ?? createLogger({ service: "actors" });
  const services = {
    db: options.warehouse.db,
    sql: options.warehouse.sql,
    redis: options.redis,
    publisher: createPublisher({ client: options.qstash, actorsUrl: options.publicUrl }),
  };
  const app = new Hono();

  app.get("/health", async (c) => {
    const postgres = await checkPostgres(options.warehouse.sql);
    return c.json({ ok: postgres.ok, postgres }, postgres.ok ? 200 : 503);
  });

  const seen = new Set<string>();
  for (const actor of options.actors) {
    if (seen.has(actor.name)) throw new Error(`actor "${actor.name}" is registered twice`);
    seen.add(actor.name);
    const deps = {
      receiver: options.receiver,
      services,
      log,
      url: actorUrl(options.publicUrl, actor.name),
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
    };
    app.post(`/actors/${actor.name}`, (c) => handleDelivery(actor, c.req.raw, deps));
  }

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404));
  app.onError((error, c) => {
    log.error("unhandled", errorFields(error));
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}

export interface ServeActorsOptions extends Omit<ActorsHostOptions, "publicUrl"> {
  /** 0 picks a free port. */
  port: number;
  hostname: string;
  /** Defaults to the URL the server ends up listening on. */
  publicUrl?: string;
}

export interface RunningActorsHost {
  url: string;
  publicUrl: string;
  /** Stops accepting deliveries and waits for those in flight; `force` drops them (QStash redelivers). */
  stop(force?: boolean): Promise<void>;
}

/** Listens with Bun.serve; the public URL may depend on the port chosen, so the app is built after binding. */
export function serveActors(options: ServeActorsOptions): RunningActorsHost {
  let app: Hono | undefined;
  const server = Bun.serve({
    port: options.port,
    hostname: options.hostname,
    // A handler may legitimately run longer than Bun's 10 s default (a warehouse query); QStash's own
    // Upstash-Timeout bounds each delivery instead.
    idleTimeout: 0,
    fetch: (request) => (app as Hono).fetch(request),
  });
  const url = server.url.href.replace(/\/+$/, "");
  const publicUrl = (options.publicUrl ?? url).replace(/\/+$/, "");
  app = createActorsApp({ ...options, publicUrl });
  return { url, publicUrl, stop: (force = false) => server.stop(force) };
}

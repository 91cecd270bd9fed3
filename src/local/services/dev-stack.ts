// The whole local stack `npm run dev` runs: services, migrations, the bridge, the broker, the actors host, the edge.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeDatabaseUrl } from "../../warehouse/database.ts";
import { migrate } from "../../warehouse/migrate.ts";
import { ensureDemoTenant } from "./demo-tenant.ts";
import type { DevFile } from "./dev-file.ts";
import { resolveServices, type Services } from "./index.ts";
import { choosePort } from "./ports.ts";
import { type ChildExit, type RunningChild, Supervisor } from "./supervisor.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** QStash's published local-server credentials; the local broker defaults to them as well. */
export const LOCAL_QSTASH = {
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
} as const;

/** Each process: its entry file, the variable that overrides its port, and the default port (8080 stays free). */
export const PROCESSES = {
  redisRest: {
    name: "redis-rest",
    file: "src/local/redis-rest/main.ts",
    portVar: "REDIS_REST_PORT",
    port: 8079,
  },
  qstash: { name: "qstash", file: "src/local/qstash/main.ts", portVar: "QSTASH_PORT", port: 8081 },
  mockstagram: {
    name: "mockstagram",
    file: "src/local/mockstagram/main.ts",
    portVar: "MOCKSTAGRAM_PORT",
    port: 8083,
  },
  actors: { name: "actors", file: "actors/main.ts", portVar: "ACTORS_PORT", port: 8082 },
  edge: { name: "edge", file: "src/edge/bun.ts", portVar: "EDGE_PORT", port: 8787 },
} as const;
type ProcessKey = keyof typeof PROCESSES;

export interface DevStackOptions {
  env?: Record<string, string | undefined>;
  /** `.fairway` by default: spawned Redis and PGlite keep their files there. */
  stateDir: string;
  log: (line: string) => void;
  /** Called when a child dies on its own after it was ready. */
  onUnexpectedExit: (child: RunningChild, exit: ChildExit) => void;
}

/** `stop()` is safe at any point, also halfway through `start()`. */
export class DevStack {
  private readonly supervisor = new Supervisor();
  private services: Services | undefined;
  private stopped = false;
  private readonly env: Record<string, string | undefined>;

  constructor(private readonly options: DevStackOptions) {
    this.env = options.env ?? process.env;
  }

  async start(): Promise<DevFile> {
    const { log } = this.options;
    const services = await resolveServices({
      env: this.env,
      database: "fairway",
      stateDir: this.options.stateDir,
      log,
    });
    this.services = services;
    if (this.stopped) throw new Error("stopped while starting");

    const result = await migrate(services.databaseUrl);
    const what = result.applied.length > 0 ? `applied ${result.applied.join(", ")}` : "up to date";
    log(`migrate ${describeDatabaseUrl(services.databaseUrl)}: ${what}`);

    const redisRestToken = this.env.REDIS_REST_TOKEN || randomToken();
    const operatorToken = this.env.FAIRWAY_OPERATOR_TOKEN || randomToken();
    const qstash = {
      token: this.env.QSTASH_TOKEN || LOCAL_QSTASH.token,
      currentSigningKey: this.env.QSTASH_CURRENT_SIGNING_KEY || LOCAL_QSTASH.currentSigningKey,
      nextSigningKey: this.env.QSTASH_NEXT_SIGNING_KEY || LOCAL_QSTASH.nextSigningKey,
    };
    const ports = await this.choosePorts();

    // The bridge, the broker, the actors host and Mockstagram need nothing from each other to start, so start them
    // together.
    const [redisRest, qstashBroker, actors, mockstagram] = await allOrFirstError([
      this.startProcess("redisRest", ports.redisRest, {
        REDIS_URL: services.redisUrl,
        TOKEN: redisRestToken,
      }),
      this.startProcess("qstash", ports.qstash, {
        REDIS_URL: services.redisUrl,
        QSTASH_TOKEN: qstash.token,
        QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
      }),
      this.startProcess("actors", ports.actors, {
        DATABASE_URL: services.databaseUrl,
        DATABASE_POOL_MAX: String(services.poolMax),
        UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${ports.redisRest}`,
        UPSTASH_REDIS_REST_TOKEN: redisRestToken,
        QSTASH_URL: `http://127.0.0.1:${ports.qstash}`,
        QSTASH_TOKEN: qstash.token,
        QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
        FAIRWAY_OPERATOR_TOKEN: operatorToken,
        // The collector polls Mockstagram; the local broker places ticks to the millisecond.
        INFLUENCER_PROVIDER_URL: `http://127.0.0.1:${ports.mockstagram}`,
        INFLUENCER_TICK_PRECISION_MS: "1",
        // The monitor (queues, DLQ, alerts) runs on a QStash schedule the actors host creates at start.
        FAIRWAY_MONITOR_CRON: this.env.FAIRWAY_MONITOR_CRON || "* * * * *",
      }),
      this.startProcess("mockstagram", ports.mockstagram, {}),
    ]);
    if (!redisRest) throw new Error(`${PROCESSES.redisRest.file} is missing: the edge cannot reach Redis`);
    const edge = await this.startProcess("edge", ports.edge, {
      UPSTASH_REDIS_REST_URL: redisRest.url,
      UPSTASH_REDIS_REST_TOKEN: redisRestToken,
      ACTORS_URL: actors?.url,
      QSTASH_URL: qstashBroker?.url,
      QSTASH_TOKEN: qstash.token,
      QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
      FAIRWAY_OPERATOR_TOKEN: operatorToken,
      // Dev allows 1 s polling (production: 60 s minimum) and must place ticks like the actors do.
      INFLUENCER_MIN_INTERVAL_SECONDS: "1",
      INFLUENCER_TICK_PRECISION_MS: "1",
    });
    if (!edge) throw new Error(`${PROCESSES.edge.file} is missing`);
    // Tenants are written through the broker to the actors host, so a demo tenant needs both.
    const demo =
      qstashBroker && actors
        ? await ensureDemoTenant({
            edgeUrl: edge.url as string,
            operatorToken,
            stateDir: this.options.stateDir,
            log,
          })
        : undefined;

    const pids: Record<string, number> = { dev: process.pid };
    for (const child of this.supervisor.list()) pids[child.name] = child.pid;
    return {
      edge: { url: edge.url as string },
      redisRest: { url: redisRest.url as string, token: redisRestToken },
      redis: { url: services.redisUrl },
      postgres: { url: services.databaseUrl, backend: services.backend, poolMax: services.poolMax },
      ...(qstashBroker ? { qstash: { url: qstashBroker.url as string, ...qstash } } : {}),
      ...(actors ? { actors: { url: actors.url as string } } : {}),
      ...(mockstagram ? { mockstagram: { url: mockstagram.url as string } } : {}),
      operatorToken,
      ...(demo ? { demo } : {}),
      pids,
      startedAt: new Date().toISOString(),
    };
  }

  /** How Redis and Postgres were found, for the summary table. */
  describeServices(): { redis: string; postgres: string } | undefined {
    const services = this.services;
    if (!services) return undefined;
    return {
      redis: services.sources.redis,
      postgres: `${services.backend}, pool ${services.poolMax}${services.sources.postgres === "pglite" ? "" : `, ${services.sources.postgres}`}`,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.supervisor.stopAll();
    await this.services?.stop();
  }

  /** No waiting: SIGKILL every child (a spawned redis-server included). */
  kill(): void {
    this.stopped = true;
    this.supervisor.killAll();
    this.services?.kill();
  }

  private async choosePorts(): Promise<Record<ProcessKey, number>> {
    const chosen = {} as Record<ProcessKey, number>;
    for (const key of Object.keys(PROCESSES) as ProcessKey[]) {
      const spec = PROCESSES[key];
      const raw = this.env[spec.portVar];
      const preferred = raw === undefined || raw === "" ? spec.port : Number(raw);
      if (!Number.isInteger(preferred) || preferred < 0 || preferred > 65535) {
        throw new Error(`${spec.portVar} must be a port number, got "${raw}"`);
      }
      let choice = await choosePort(preferred);
      // Two processes must not be handed the same OS-chosen port.
      while (Object.values(chosen).includes(choice.port)) choice = await choosePort(0);
      if (choice.moved) this.options.log(`${spec.name}: port ${preferred} is taken; using ${choice.port}`);
      chosen[key] = choice.port;
    }
    return chosen;
  }

  /** Starts one process, or returns undefined (with a note) when its entry file does not exist yet. */
  private async startProcess(
    key: ProcessKey,
    port: number,
    env: Record<string, string | undefined>,
  ): Promise<RunningChild | undefined> {
    const spec = PROCESSES[key];
    if (!existsSync(join(REPO_ROOT, spec.file))) {
      this.options.log(`${spec.name}: ${spec.file} does not exist yet; not started`);
      return undefined;
    }
    if (this.stopped) throw new Error("stopped while starting");
    return this.supervisor.start(
      {
        name: spec.name,
        command: [process.execPath, spec.file],
        cwd: REPO_ROOT,
        env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
        log: prefixedLog(spec.name),
      },
      this.options.onUnexpectedExit,
    );
  }
}

/** Like Promise.all, but waits for every promise to settle first, so nothing is still starting when it throws. */
async function allOrFirstError<T extends readonly unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

const NAME_WIDTH = 10;
function prefixedLog(name: string): (line: string) => void {
  const prefix = `${name.padEnd(NAME_WIDTH)} | `;
  return (line) => process.stdout.write(`${prefix}${line}\n`);
}

// Finds a Postgres for the local stack: DATABASE_URL, else the usual local server (starting its cluster when
// it is installed but stopped), else an embedded PGlite.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import postgres from "postgres";
import { ServiceUnavailableError } from "./errors.ts";
import { startPglite } from "./pglite.ts";
import { canConnect } from "./ports.ts";
import { which } from "./which.ts";

export const LOCAL_POSTGRES = { host: "127.0.0.1", port: 5432, user: "postgres" } as const;

/** Pool sizes every postgres.js client must use: PGlite serves one connection at a time. */
export const POOL_MAX = { server: 10, pglite: 1 } as const;

export interface PostgresOptions {
  /** DATABASE_URL from the environment; used as given when set. */
  envUrl?: string;
  /** The database to use (and create) on the local server. */
  database: string;
  /** The server tried next; tests point it elsewhere. */
  local?: { host: string; port: number; user: string };
  /** Skip the server and use PGlite. */
  forcePglite?: boolean;
  /** Try `pg_ctlcluster … start` when a local cluster is installed but down. */
  startStoppedCluster?: boolean;
  /** PGlite's data directory; undefined keeps it in memory. */
  pgliteDataDir?: string;
  log: (line: string) => void;
}

export interface ResolvedPostgres {
  url: string;
  backend: "server" | "pglite";
  poolMax: number;
  source: "env" | "local" | "started-cluster" | "pglite";
  stop(): Promise<void>;
}

export async function resolvePostgres(options: PostgresOptions): Promise<ResolvedPostgres> {
  const noop = async () => {};
  if (options.envUrl) {
    const answer = await checkPostgres(options.envUrl);
    if (answer !== true) throw new ServiceUnavailableError(`DATABASE_URL does not answer: ${answer}`);
    return { url: options.envUrl, backend: "server", poolMax: POOL_MAX.server, source: "env", stop: noop };
  }
  if (!options.forcePglite) {
    const local = options.local ?? LOCAL_POSTGRES;
    let source: ResolvedPostgres["source"] = "local";
    let reachable = await canConnect(local.host, local.port);
    if (!reachable && (options.startStoppedCluster ?? true)) {
      reachable = await startStoppedCluster(local.port, options.log);
      source = "started-cluster";
    }
    if (reachable) {
      const adminUrl = `postgres://${local.user}@${local.host}:${local.port}/postgres`;
      const created = await ensureDatabase(adminUrl, options.database);
      if (created === true) {
        const url = `postgres://${local.user}@${local.host}:${local.port}/${options.database}`;
        return { url, backend: "server", poolMax: POOL_MAX.server, source, stop: noop };
      }
      options.log(
        `postgres: ${local.host}:${local.port} answers but cannot be used (${created}); using PGlite`,
      );
    }
  }
  if (options.pgliteDataDir) mkdirSync(options.pgliteDataDir, { recursive: true });
  const server = await startPglite({ dataDir: options.pgliteDataDir });
  options.log(
    `postgres: embedded PGlite at ${server.url} (${options.pgliteDataDir ?? "in memory"}); one connection at a time`,
  );
  return {
    url: server.url,
    backend: "pglite",
    poolMax: POOL_MAX.pglite,
    source: "pglite",
    stop: () => server.stop(),
  };
}

/** `true` when `SELECT 1` works at `url`, else the reason it did not. */
export async function checkPostgres(url: string): Promise<true | string> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates `database` through the maintenance database when missing; `true` on success, else why not. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<true | string> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${database}`;
    if (rows.length === 0) {
      try {
        await sql`create database ${sql(database)}`;
      } catch (error) {
        // Two processes may race to create it; losing that race is fine.
        if ((error as { code?: string }).code !== "42P04") throw error;
      }
    }
    return true;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export interface Cluster {
  version: string;
  name: string;
  port: number;
  status: string;
}

/** Parses `pg_lsclusters -h` (Debian's postgresql-common): "15 main 5432 down postgres /var/lib/… /var/log/…". */
export function parseClusters(output: string): Cluster[] {
  const clusters: Cluster[] = [];
  for (const line of output.split("\n")) {
    const [version, name, port, status] = line.trim().split(/\s+/);
    if (version && name && port && status && /^\d+$/.test(port)) {
      clusters.push({ version, name, port: Number(port), status });
    }
  }
  return clusters;
}

/** Starts a stopped Debian cluster on `port`, then waits for it; false when there is none or we may not. */
async function startStoppedCluster(port: number, log: (line: string) => void): Promise<boolean> {
  if (!which("pg_lsclusters") || !which("pg_ctlcluster")) return false;
  const listing = spawnSync("pg_lsclusters", ["-h"], { encoding: "utf8" });
  const cluster = parseClusters(listing.stdout ?? "").find((c) => c.port === port && c.status !== "online");
  if (!cluster) return false;
  log(`postgres: cluster ${cluster.version}/${cluster.name} is ${cluster.status}; starting it`);
  const started = spawnSync(
    "pg_ctlcluster",
    ["--skip-systemctl-redirect", cluster.version, cluster.name, "start"],
    { encoding: "utf8" },
  );
  if (started.status !== 0) {
    const reason = `${started.stderr ?? ""}${started.stdout ?? ""}`.trim().split("\n")[0] ?? "";
    log(`postgres: could not start cluster ${cluster.version}/${cluster.name}: ${reason}`);
    return false;
  }
  for (let i = 0; i < 100; i++) {
    if (await canConnect("127.0.0.1", port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { RespConnection } from "../../../src/local/resp/index.ts";
import { freePort, resolveServices, ServiceUnavailableError } from "../../../src/local/services/index.ts";
import { parseClusters } from "../../../src/local/services/postgres.ts";
import { INSTALL_REDIS_HINT } from "../../../src/local/services/redis.ts";

// The services this test run was given (npm test exports them); the tests point resolution at them
// instead of assuming what listens on 6379 / 5432.
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway_test";
const onPostgresServer = (process.env.FAIRWAY_DB_BACKEND ?? "server") === "server";
const server = new URL(databaseUrl);
const localPostgres = {
  host: server.hostname,
  port: Number(server.port || 5432),
  user: decodeURIComponent(server.username) || "postgres",
};
const adminUrl = Object.assign(new URL(databaseUrl), { pathname: "/postgres" }).toString();

const stateDir = mkdtempSync(join(tmpdir(), "fairway-services-"));
const database = `fairway_services_${Math.random().toString(36).slice(2, 10)}`;
const quiet = () => {};
const unset = {
  REDIS_URL: undefined,
  DATABASE_URL: undefined,
  DATABASE_POOL_MAX: undefined,
  FAIRWAY_PGLITE: undefined,
};

afterAll(async () => {
  rmSync(stateDir, { recursive: true, force: true });
  if (!onPostgresServer) return;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin`drop database if exists ${admin(database)}`;
  await admin.end();
});

describe("Redis", () => {
  test("REDIS_URL wins when it answers", async () => {
    const services = await resolveServices({
      env: { ...unset, REDIS_URL: redisUrl, DATABASE_URL: databaseUrl },
      stateDir,
      log: quiet,
    });
    expect(services.redisUrl).toBe(redisUrl);
    expect(services.sources.redis).toBe("env");
    await services.stop();
  });

  test("a REDIS_URL that does not answer is one clear error", async () => {
    const port = await freePort();
    const error = await resolveServices({
      env: { ...unset, REDIS_URL: `redis://127.0.0.1:${port}` },
      stateDir,
      log: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toStartWith("REDIS_URL does not answer PING");
  });

  test("without REDIS_URL, a server answering on the local address is used", async () => {
    const services = await resolveServices({
      env: { ...unset, DATABASE_URL: databaseUrl },
      localRedisUrl: redisUrl,
      stateDir,
      log: quiet,
    });
    expect(services.redisUrl).toBe(redisUrl);
    expect(services.sources.redis).toBe("local");
    await services.stop();
  });

  test("with nothing on the local port, a redis-server is spawned on a free port and stopped again", async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const lines: string[] = [];
    const services = await resolveServices({
      env: { ...unset, DATABASE_URL: databaseUrl },
      localRedisUrl: closed,
      stateDir,
      log: (line) => lines.push(line),
    });
    expect(services.sources.redis).toBe("spawned");
    expect(services.redisUrl).not.toBe(closed);
    const redis = await RespConnection.connect(services.redisUrl);
    expect(await redis.callString(["PING"])).toBe("PONG");
    // Persistence is off: a dev Redis should never write dump files into the repo.
    expect(await redis.call(["CONFIG", "GET", "save"])).toEqual([Buffer.from("save"), Buffer.from("")]);
    await redis.close();
    expect(lines.join("\n")).toContain("started redis-server");
    await services.stop();
    await expect(RespConnection.connect(services.redisUrl)).rejects.toThrow("Cannot connect");
  });

  test("without redis-server on PATH the error says how to install it, in one line", async () => {
    const error = await resolveServices({
      env: unset,
      localRedisUrl: `redis://127.0.0.1:${await freePort()}`,
      redisServer: "/nonexistent/redis-server",
      stateDir,
      log: quiet,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as Error).message).toBe(INSTALL_REDIS_HINT);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("Postgres", () => {
  test.skipIf(!onPostgresServer)("a local server gets the database created and a pool of 10", async () => {
    const services = await resolveServices({
      env: unset,
      database,
      localRedisUrl: redisUrl,
      localPostgres,
      stateDir,
      log: quiet,
    });
    expect(services.backend).toBe("server");
    expect(services.sources).toEqual({ redis: "local", postgres: "local" });
    const { host, port, user } = localPostgres;
    expect(services.databaseUrl).toBe(`postgres://${user}@${host}:${port}/${database}`);
    expect(services.poolMax).toBe(10);
    const sql = postgres(services.databaseUrl, { max: 1 });
    expect((await sql`select current_database() as name`)[0]?.name).toBe(database);
    await sql.end();
    await services.stop();
  });

  test("DATABASE_POOL_MAX overrides the pool size; nonsense is refused", async () => {
    const env = { ...unset, REDIS_URL: redisUrl, DATABASE_URL: databaseUrl };
    const services = await resolveServices({
      env: { ...env, DATABASE_POOL_MAX: "3" },
      stateDir,
      log: quiet,
    });
    expect(services.poolMax).toBe(3);
    expect(services.sources.postgres).toBe("env");
    await expect(
      resolveServices({ env: { ...env, DATABASE_POOL_MAX: "lots" }, stateDir, log: quiet }),
    ).rejects.toThrow('DATABASE_POOL_MAX must be a positive integer, got "lots"');
  });

  test("a DATABASE_URL that does not answer is one clear error", async () => {
    const port = await freePort();
    await expect(
      resolveServices({
        env: { ...unset, REDIS_URL: redisUrl, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` },
        stateDir,
        log: quiet,
      }),
    ).rejects.toThrow("DATABASE_URL does not answer");
  });

  test("the PGlite fallback serves postgres.js with a pool of 1, one client after the other", async () => {
    const services = await resolveServices({
      env: { ...unset, REDIS_URL: redisUrl },
      forcePglite: true,
      pgliteDataDir: null,
      stateDir,
      log: quiet,
    });
    try {
      expect(services.backend).toBe("pglite");
      expect(services.poolMax).toBe(1);
      const first = postgres(services.databaseUrl, { max: services.poolMax, onnotice: () => {} });
      await first`create table visits (id int primary key, page text not null)`;
      await first.begin(async (tx) => {
        await tx`insert into visits values (1, 'home')`;
        await tx`insert into visits values (2, 'pricing')`;
      });
      // A second client connecting meanwhile waits for its turn instead of being refused.
      const second = postgres(services.databaseUrl, { max: services.poolMax, onnotice: () => {} });
      const pending = second`select count(*)::int as n from visits`.execute();
      await Bun.sleep(200);
      await first.end();
      expect((await pending)[0]?.n).toBe(2);
      await second.end();
    } finally {
      await services.stop();
    }
  }, 30_000);
});

test("pg_lsclusters output is parsed into clusters", () => {
  const output = [
    "15  main 5432 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log",
    "16  test 5433 online postgres /var/lib/postgresql/16/test /var/log/postgresql/postgresql-16-test.log",
    "",
  ].join("\n");
  expect(parseClusters(output)).toEqual([
    { version: "15", name: "main", port: 5432, status: "down" },
    { version: "16", name: "test", port: 5433, status: "online" },
  ]);
});

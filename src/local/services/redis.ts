// Finds a Redis for the local stack: REDIS_URL, else the usual local server, else a redis-server we start.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RespConnection } from "../resp/index.ts";
import { ServiceUnavailableError } from "./errors.ts";
import { freePort } from "./ports.ts";
import { type RunningChild, startChild } from "./supervisor.ts";
import { which } from "./which.ts";

export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";
export const INSTALL_REDIS_HINT =
  "Redis is not running and redis-server is not on PATH: install it (apt-get install redis-server, or brew install redis) or set REDIS_URL";

export interface RedisOptions {
  /** REDIS_URL from the environment; used as given when set. */
  envUrl?: string;
  /** The server tried next; tests point it at a closed port to force the spawn path. */
  localUrl?: string;
  /** Program started when nothing answers. */
  redisServer?: string;
  /** The spawned server's working directory (it writes nothing there: persistence is off). */
  dataDir: string;
  log: (line: string) => void;
}

export interface ResolvedRedis {
  url: string;
  source: "env" | "local" | "spawned";
  stop(): Promise<void>;
  /** SIGKILL a spawned server, without waiting. */
  kill(): void;
}

export async function resolveRedis(options: RedisOptions): Promise<ResolvedRedis> {
  if (options.envUrl) {
    const answer = await pingRedis(options.envUrl, 3000);
    if (answer !== true) throw new ServiceUnavailableError(`REDIS_URL does not answer PING: ${answer}`);
    return { url: options.envUrl, source: "env", stop: async () => {}, kill: () => {} };
  }
  const localUrl = options.localUrl ?? LOCAL_REDIS_URL;
  if ((await pingRedis(localUrl, 1000)) === true) {
    return { url: localUrl, source: "local", stop: async () => {}, kill: () => {} };
  }

  const program = which(options.redisServer ?? "redis-server");
  if (program === undefined) throw new ServiceUnavailableError(INSTALL_REDIS_HINT);
  const child = await spawnRedis(program, options);
  const url = child.url as string;
  options.log(`redis: nothing answered at ${localUrl}; started redis-server at ${url} (pid ${child.pid})`);
  return {
    url,
    source: "spawned",
    stop: async () => {
      await child.stop();
    },
    kill: () => child.kill(),
  };
}

/** `true` when the server at `url` answers PING within `timeoutMs`, else the reason it did not. */
export async function pingRedis(url: string, timeoutMs: number): Promise<true | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let connection: RespConnection | undefined;
  const attempt = (async () => {
    connection = await RespConnection.connect(url);
    await connection.call(["PING"]);
    return true as const;
  })();
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([attempt, deadline]);
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
    attempt.then(
      () => connection?.close(),
      () => connection?.close(),
    );
  }
}

async function spawnRedis(program: string, options: RedisOptions): Promise<RunningChild & { url: string }> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = await startChild({
    name: "redis",
    command: [
      program,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      options.dataDir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
    ],
    ready: async () => (await pingRedis(url, 500)) === true,
    readyTimeoutMs: 10_000,
    // redis-server's banner is noise in the dev log; keep it for error messages only.
    log: () => {},
  });
  return { ...child, url };
}

export function redisDataDir(stateDir: string): string {
  return join(stateDir, "redis");
}

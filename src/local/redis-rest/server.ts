import { type RespConnection, RespError, type RespReply } from "../resp/index.ts";
import { BadRequest, type Command, placementOf, toCommand } from "./commands.ts";
import { RedisLinks } from "./redis-links.ts";
import { entriesBody, renderError, resultBody } from "./render.ts";
import { openSubscription } from "./subscribe.ts";
import { runTransaction } from "./transaction.ts";

/** The token the bridge expects when TOKEN is not set (local development only). */
export const DEV_REDIS_REST_TOKEN = "fairway-dev-redis-token";

export interface RedisRestOptions {
  /** redis://[user:pass@]host:port[/db] of the redis-server to front. */
  redisUrl: string;
  /** 0 picks a free port. */
  port?: number;
  /** Bearer token clients must send (`Authorization: Bearer <token>`). */
  token: string;
  hostname?: string;
}

export interface RedisRest {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts an Upstash-compatible Redis REST endpoint in this process.
 *
 * @example
 * const bridge = await startRedisRest({ redisUrl: "redis://127.0.0.1:6379", port: 0, token: "t" });
 * const redis = new Redis({ url: bridge.url, token: "t" });
 */
export async function startRedisRest(options: RedisRestOptions): Promise<RedisRest> {
  const links = new RedisLinks(options.redisUrl);
  await links.sharedConnection(); // fail fast when Redis is unreachable
  const expectedAuth = `Bearer ${options.token}`;
  const syncPrefix = `${Date.now().toString(36)}-`;
  let syncCounter = 0;

  const headersFor = (): Record<string, string> => ({
    "Content-Type": "application/json",
    // Read-your-writes: the client echoes the last value; a fresh one per response is enough here.
    "upstash-sync-token": syncPrefix + (++syncCounter).toString(36),
  });
  const json = (status: number, body: string | Uint8Array) =>
    new Response(body, { status, headers: headersFor() });

  const server = Bun.serve({
    port: options.port ?? 8079,
    hostname: options.hostname ?? "127.0.0.1",
    idleTimeout: 0, // blocking commands and subscriptions may stay silent for long
    async fetch(request) {
      if (request.headers.get("authorization") !== expectedAuth) {
        return json(401, renderError("Unauthorized: missing or invalid bearer token"));
      }
      const path = pathOf(request.url);
      const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
      try {
        switch (path) {
          case "/":
          case "":
            return await single(toCommand(await bodyOf(request), "command"), base64, request.signal);
          case "/pipeline":
            return await pipeline(commandsOf(await bodyOf(request)), base64, request.signal);
          case "/multi-exec":
            return await transaction(commandsOf(await bodyOf(request)), base64);
        }
        const segments = path.slice(1).split("/");
        const head = segments[0] as string;
        if (head === "subscribe" || head === "psubscribe") {
          if (request.method !== "POST" && request.method !== "GET")
            throw new BadRequest(`ERR use POST /${head}/…`);
          const target = decodePath(segments.slice(1).join("/"));
          if (target === "")
            throw new BadRequest(`ERR /${head} needs a ${head === "subscribe" ? "channel" : "pattern"}`);
          return await openSubscription(links, head, target, request.signal, headersFor());
        }
        return await single(await pathCommand(request, segments), base64, request.signal);
      } catch (error) {
        if (error instanceof BadRequest) return json(400, renderError(error.message));
        if (error instanceof RespError) return json(400, renderError(error.message));
        return json(503, renderError(`Redis unavailable: ${(error as Error).message}`));
      }
    },
  });

  async function single(command: Command, base64: boolean, signal: AbortSignal): Promise<Response> {
    const reply =
      placementOf(command) === "blocking"
        ? ((await onDedicated([command], signal))[0] as RespReply)
        : await (await links.sharedConnection()).send(command);
    if (reply instanceof RespError) return json(400, renderError(reply.message));
    return json(200, resultBody(reply, base64));
  }

  async function pipeline(commands: Command[], base64: boolean, signal: AbortSignal): Promise<Response> {
    // Refused commands become error entries; the rest still run, as Redis pipelines are not atomic.
    let refused: Map<number, RespError> | undefined;
    let blocking = false;
    for (let i = 0; i < commands.length; i++) {
      try {
        if (placementOf(commands[i] as Command) === "blocking") blocking = true;
      } catch (error) {
        if (!(error instanceof BadRequest)) throw error;
        refused ??= new Map();
        refused.set(i, new RespError(error.message));
      }
    }
    const runnable = refused === undefined ? commands : commands.filter((_, i) => !refused.has(i));
    const replies = blocking
      ? await onDedicated(runnable, signal)
      : await (await links.sharedConnection()).pipeline(runnable);
    if (refused !== undefined) {
      for (const [at, error] of [...refused].sort((a, b) => a[0] - b[0])) replies.splice(at, 0, error);
    }
    return json(200, entriesBody(replies, base64));
  }

  async function transaction(commands: Command[], base64: boolean): Promise<Response> {
    const outcome = await runTransaction(links, commands);
    if ("aborted" in outcome) return json(400, renderError(outcome.aborted));
    return json(200, entriesBody(outcome.replies, base64));
  }

  /**
   * Runs commands that may block on a pooled connection of their own. If the HTTP client goes
   * away first, the connection is closed: it may stay blocked for as long as the command allows.
   */
  async function onDedicated(commands: Command[], signal: AbortSignal): Promise<RespReply[]> {
    const connection: RespConnection = await links.dedicated.acquire();
    let settled = false;
    const abandon = () => {
      if (!settled) links.dedicated.destroy(connection);
    };
    signal.addEventListener("abort", abandon, { once: true });
    try {
      const replies = await connection.pipeline(commands);
      settled = true;
      links.dedicated.release(connection);
      return replies;
    } catch (error) {
      settled = true;
      links.dedicated.destroy(connection);
      throw error;
    } finally {
      signal.removeEventListener("abort", abandon);
    }
  }

  const port = server.port as number;
  const hostname = options.hostname ?? "127.0.0.1";
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    port,
    async stop() {
      await server.stop(true);
      await links.close();
    },
  };
}

/** The path of an absolute request URL, without query string. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

async function bodyOf(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest(
      `ERR failed to parse the request body as JSON: ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
}

function commandsOf(body: unknown): Command[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw new BadRequest('ERR the body must be a non-empty JSON array of commands such as [["get","key"]]');
  }
  return body.map((command, i) => toCommand(command, `command ${i + 1}`));
}

/** Upstash's URL form: `GET /get/key`, `POST /set/key` with the value as the raw body. */
async function pathCommand(request: Request, segments: string[]): Promise<Command> {
  const command = segments.map(decodePath);
  if (request.method === "POST" || request.method === "PUT") {
    const body = await request.text();
    if (body !== "") command.push(body);
  }
  return command;
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(`ERR malformed percent-encoding in the path: ${segment}`);
  }
}

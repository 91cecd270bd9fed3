import type { Hono } from "hono";
import type { EdgeEnv, EdgeServices } from "../context.ts";

export interface Check {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface HealthBody {
  status: "ok" | "degraded";
  redis: Check;
  postgres: Check;
}

/** `GET /health`: 200 when Redis and Postgres both answer, else 503; each part says how long it took. */
export function registerHealth(app: Hono<EdgeEnv>, services: EdgeServices, timeoutMs: number): void {
  app.get("/health", async (c) => {
    const [redis, postgres] = await Promise.all([
      checkRedis(services, timeoutMs),
      checkPostgresThroughActors(services, timeoutMs),
    ]);
    const ok = redis.ok && postgres.ok;
    const body: HealthBody = { status: ok ? "ok" : "degraded", redis, postgres };
    c.header("cache-control", "no-store");
    return c.json(body, ok ? 200 : 503);
  });
}

/** PING over the REST protocol with the official client. */
export async function checkRedis(services: EdgeServices, timeoutMs: number): Promise<Check> {
  return timed(timeoutMs, async () => {
    const reply = await services.redis.ping();
    if (reply !== "PONG") throw new Error(`PING answered ${JSON.stringify(reply)}`);
  });
}

/** The actors host checks Postgres for us; latency is the whole round trip as the edge sees it. */
export async function checkPostgresThroughActors(services: EdgeServices, timeoutMs: number): Promise<Check> {
  const { actorsUrl } = services;
  if (!actorsUrl) return { ok: false, latencyMs: 0, error: "ACTORS_URL is not configured" };
  const doFetch = services.fetch ?? fetch;
  return timed(timeoutMs, async (signal) => {
    const response = await doFetch(`${actorsUrl}/health`, {
      signal,
      headers: { accept: "application/json" },
    });
    const report = (await response.json().catch(() => undefined)) as
      | { postgres?: { ok?: boolean; error?: string } }
      | undefined;
    if (report?.postgres?.ok === true && response.ok) return;
    throw new Error(report?.postgres?.error ?? `actors host answered ${response.status}`);
  });
}

/** Runs `probe` with a deadline; any failure becomes `{ok: false, error}` rather than an exception. */
async function timed(timeoutMs: number, probe: (signal: AbortSignal) => Promise<void>): Promise<Check> {
  const started = Date.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([probe(controller.signal), deadline]);
    return { ok: true, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, latencyMs: Date.now() - started, error: messageOf(error) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

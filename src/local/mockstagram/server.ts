// Mockstagram: a stand-in for a social-media provider's profile API, with failures and latency on demand.
import { mulberry32 } from "../../domain/seeded-random.ts";
import { countersAt } from "./counters.ts";

export interface MockstagramOptions {
  /** 0 picks a free port. Default 8083. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Share of profile requests answered with a 5xx, 0..1. Default 0. */
  failureRate?: number;
  /** Added to every profile request, in ms. Default 0. */
  latencyMs?: number;
  /** Changes every influencer's counters and the failure sequence. Default 0. */
  seed?: number;
  /** Told of every profile request as it arrives (tests measure the collector's cadence with it). */
  onRequest?: (id: string, at: number) => void;
}

/** What can be changed while it runs (`POST /__control` or `configure`). */
export interface MockstagramControl {
  failureRate?: number;
  latencyMs?: number;
  /** The next N profile requests for an id fail, whatever the failure rate: `{ "1000001": 2 }`. */
  failNext?: Record<string, number>;
}

export interface MockstagramStats {
  requests: number;
  failures: number;
  /** Profile requests per influencer id, failures included. */
  byId: Record<string, number>;
}

export interface Mockstagram {
  url: string;
  readonly seed: number;
  configure(control: MockstagramControl): void;
  stats(): MockstagramStats;
  stop(): Promise<void>;
}

/** Ids look like a provider's: letters, digits, dot, underscore, dash; at most 64. */
export const INFLUENCER_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const PROFILE_PATH = /^\/api\/v1\/influencers\/([^/]+)$/;
const FAILURE_STATUSES = [500, 502, 503] as const;

export function startMockstagram(options: MockstagramOptions = {}): Mockstagram {
  const seed = options.seed ?? 0;
  const settings = {
    failureRate: checkRate(options.failureRate ?? 0, "failureRate"),
    latencyMs: checkLatency(options.latencyMs ?? 0, "latencyMs"),
  };
  const failNext = new Map<string, number>();
  const random = mulberry32(seed ^ 0x5eed);
  const stats: MockstagramStats = { requests: 0, failures: 0, byId: {} };

  const configure = (control: MockstagramControl) => {
    if (control.failureRate !== undefined)
      settings.failureRate = checkRate(control.failureRate, "failureRate");
    if (control.latencyMs !== undefined) settings.latencyMs = checkLatency(control.latencyMs, "latencyMs");
    for (const [id, count] of Object.entries(control.failNext ?? {})) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError(`failNext.${id} must be an integer >= 0`);
      failNext.set(id, count);
    }
  };

  async function profile(id: string, query: URLSearchParams): Promise<Response> {
    if (!INFLUENCER_ID_PATTERN.test(id)) {
      return Response.json({ error: "id: expected 1-64 letters, digits, '.', '_' or '-'" }, { status: 400 });
    }
    const failureRate = overrideFrom(query, "failureRate", settings.failureRate, checkRate);
    const latencyMs = overrideFrom(query, "latencyMs", settings.latencyMs, checkLatency);
    if (failureRate instanceof Response) return failureRate;
    if (latencyMs instanceof Response) return latencyMs;

    stats.requests++;
    stats.byId[id] = (stats.byId[id] ?? 0) + 1;
    options.onRequest?.(id, Date.now());
    // Decide before waiting, so the failure sequence follows arrival order.
    const forced = failNext.get(id) ?? 0;
    if (forced > 0) failNext.set(id, forced - 1);
    const draw = random();
    const fails = forced > 0 || draw < failureRate;
    if (latencyMs > 0) await Bun.sleep(latencyMs);
    if (fails) {
      stats.failures++;
      const status = FAILURE_STATUSES[Math.floor(random() * FAILURE_STATUSES.length)] ?? 503;
      return Response.json({ error: "provider temporarily unavailable" }, { status });
    }
    const now = Date.now();
    const second = Math.floor(now / 1000);
    return Response.json({
      id,
      username: `creator_${id}`,
      asOf: new Date(second * 1000).toISOString(),
      ...countersAt(seed, id, second),
    });
  }

  const server = Bun.serve({
    port: options.port ?? 8083,
    hostname: options.hostname ?? "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const match = PROFILE_PATH.exec(url.pathname);
      if (match && request.method === "GET")
        return profile(decodeURIComponent(match[1] as string), url.searchParams);
      if (url.pathname === "/health") return Response.json({ ok: true });
      if (url.pathname === "/__stats" && request.method === "GET") return Response.json(stats);
      if (url.pathname === "/__control" && request.method === "POST") {
        try {
          configure((await request.json()) as MockstagramControl);
          return Response.json({ ...settings, failNext: Object.fromEntries(failNext) });
        } catch (error) {
          return Response.json({ error: (error as Error).message }, { status: 400 });
        }
      }
      return Response.json({ error: `no route ${request.method} ${url.pathname}` }, { status: 404 });
    },
  });

  return {
    url: server.url.href.replace(/\/+$/, ""),
    seed,
    configure,
    stats: () => structuredClone(stats),
    stop: () => server.stop(true),
  };
}

function checkRate(value: number, name: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be a number between 0 and 1, got ${value}`);
  }
  return value;
}

function checkLatency(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 60_000) {
    throw new RangeError(`${name} must be a number of milliseconds between 0 and 60000, got ${value}`);
  }
  return value;
}

/** A per-request override from the query string (`?failureRate=1&latencyMs=200`), or a 400 naming it. */
function overrideFrom(
  query: URLSearchParams,
  name: string,
  fallback: number,
  check: (value: number, name: string) => number,
): number | Response {
  const raw = query.get(name);
  if (raw === null) return fallback;
  try {
    return check(raw.trim() === "" ? Number.NaN : Number(raw), name);
  } catch (error) {
    return Response.json({ error: (error as Error).message }, { status: 400 });
  }
}

// The live ad API, answered from the per-minute sorted sets in Redis (one script, one round trip):
//   GET /v1/ads/top?window=5m&metric=clicks&limit=100   the best ads over the window
//   GET /v1/ads/:ad/clicks?window=5m                    one ad's clicks over the window, minute by minute
// A window of N minutes is the current (partial) minute and the N - 1 before it, by the edge's clock.
import type { Hono } from "hono";
import { keys } from "../../domain/keys.ts";
import {
  adValues,
  epochMinute,
  type LeaderboardMetric,
  type ParamParse,
  parseLimit,
  parseMetric,
  parseWindow,
  type RankedAd,
  topAds,
  topFromSnapshot,
  windowMinutes,
} from "../../domain/leaderboard/index.ts";
import type { EdgeEnv, EdgeServices } from "../context.ts";
import { ApiError, type FieldError } from "../errors.ts";
import { redisUnavailable, tenantAuth } from "../middleware/tenant-auth.ts";
import { type HeldRead, HeldValues } from "../services/held-reads.ts";

const AD_MAX_LENGTH = 128;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * A minute's top-100 snapshot, held decoded per isolate: read on every one-minute request, it changes only when
 * events for that minute are tallied. Not JSON (never written so) reads as no snapshot: the live sets answer.
 */
const snapshots = new HeldValues<unknown[]>(snapshotList, {
  maxChars: 64 * 1024,
  maxTotalChars: 2 * 1024 * 1024,
});

function snapshotList(text: string): unknown[] | null {
  try {
    const value: unknown = JSON.parse(text);
    // cjson writes an empty list as {}.
    return Array.isArray(value) ? value : value !== null && typeof value === "object" ? [] : null;
  } catch {
    return null;
  }
}

/** The answer's `data` for a held snapshot, rendered once per snapshot, metric and limit. */
const renderedSnapshots = new WeakMap<unknown[], Map<string, string>>();

function snapshotRowsJson(snapshot: unknown[], metric: LeaderboardMetric, limit: number): string {
  let rendered = renderedSnapshots.get(snapshot);
  if (rendered === undefined) {
    rendered = new Map();
    renderedSnapshots.set(snapshot, rendered);
  }
  const key = `${metric} ${limit}`;
  let rows = rendered.get(key);
  if (rows === undefined) {
    rows = topRowsJson(topFromSnapshot(snapshot, metric, limit) ?? [], metric);
    rendered.set(key, rows);
  }
  return rows;
}

/** `[{rank, ad, <metric>}]` as JSON. */
function topRowsJson(ranked: readonly RankedAd[], metric: LeaderboardMetric): string {
  return JSON.stringify(ranked.map((entry, i) => ({ rank: i + 1, ad: entry.ad, [metric]: entry.value })));
}

export function registerAds(app: Hono<EdgeEnv>, services: EdgeServices): void {
  // A one-minute list is the minute's snapshot, read in the authentication round trip; the minute is fixed
  // there, so the answer and its `from` / `to` agree even across a minute boundary.
  // With it goes whether the minute's set exists: a minute nobody has tallied yet (every minute's first
  // seconds) has neither, and its empty answer needs no second round trip.
  const snapshotReads = new WeakMap<Request, { minute: number; read: HeldRead<unknown[]>; setKey: string }>();
  const topAuth = tenantAuth(services, {
    prefetch(c, tenantId) {
      const window = parseWindow(c.req.query("window"));
      const metric = parseMetric(c.req.query("metric"));
      if (!window.ok || window.value !== 1 || !metric.ok) return [];
      const minute = epochMinute(Date.now());
      const read = snapshots.read(keys.topSnapshot(tenantId, metric.value, minute));
      const setKey = keys.top(tenantId, metric.value, minute);
      snapshotReads.set(c.req.raw, { minute, read, setKey });
      return [read, { key: setKey, command: ["exists", setKey] }];
    },
  });

  app.get("/v1/ads/top", topAuth, async (c) => {
    const [window, metric, limit] = params(
      parseWindow(c.req.query("window")),
      parseMetric(c.req.query("metric")),
      parseLimit(c.req.query("limit")),
    );
    const tenantId = c.get("tenant").id;
    // A snapshot read for the tenant the key claimed counts only if that is the tenant it proved to be.
    const prefetched = snapshotReads.get(c.req.raw);
    const minute = prefetched?.minute;
    const read =
      minute !== undefined && prefetched?.read.key === keys.topSnapshot(tenantId, metric, minute)
        ? prefetched.read
        : undefined;
    const minutes = minute === undefined ? windowMinutes(Date.now(), window) : [minute];
    const snapshot = read && snapshots.valueFrom(read, c.get("prefetched").get(read.key));
    const untallied = read !== undefined && Number(c.get("prefetched").get(prefetched?.setKey ?? "")) === 0;
    const rows = snapshot
      ? snapshotRowsJson(snapshot, metric, limit)
      : untallied
        ? "[]"
        : topRowsJson(await live(topAds(services.redis, tenantId, metric, minutes, limit)), metric);
    c.header("cache-control", "no-store");
    const meta = { metric, limit, ...span(window, minutes) };
    return c.body(`{"data":${rows},"meta":${JSON.stringify(meta)}}`, 200, {
      "Content-Type": "application/json",
    });
  });

  app.get("/v1/ads/:ad/clicks", tenantAuth(services), async (c) => {
    const ad = c.req.param("ad");
    const adCheck: ParamParse<string> =
      ad.length === 0 || ad.length > AD_MAX_LENGTH || CONTROL_CHARACTERS.test(ad)
        ? { ok: false, field: "ad", message: `must be an ad id of 1 to ${AD_MAX_LENGTH} characters` }
        : { ok: true, value: ad };
    const [window] = params(parseWindow(c.req.query("window")), adCheck);
    const minutes = windowMinutes(Date.now(), window);
    const values = await live(adValues(services.redis, c.get("tenant").id, "clicks", ad, minutes));
    c.header("cache-control", "no-store");
    return c.json({
      data: {
        ad,
        clicks: values.reduce((sum, value) => sum + value, 0),
        perMinute: minutes.map((minute, i) => ({
          minute: new Date(minute * 60_000).toISOString(),
          clicks: values[i],
        })),
      },
      meta: span(window, minutes),
    });
  });
}

/** The values of parameters that parsed; a 400 naming every one that did not. */
function params<T extends readonly ParamParse<unknown>[]>(
  ...parsed: T
): { [K in keyof T]: T[K] extends ParamParse<infer V> ? V : never } {
  const errors: FieldError[] = [];
  for (const entry of parsed) if (!entry.ok) errors.push({ field: entry.field, message: entry.message });
  if (errors.length > 0) {
    const [first] = errors as [FieldError];
    throw new ApiError(400, "invalid_parameter", `${first.field}: ${first.message}`, { fields: errors });
  }
  return parsed.map((entry) => (entry as { value: unknown }).value) as never;
}

/** The window as the answer states it: its length and the instants it covers, to the current minute's end. */
function span(window: number, minutes: readonly number[]) {
  const first = minutes[0] as number;
  const last = minutes[minutes.length - 1] as number;
  return {
    window: `${window}m`,
    from: new Date(first * 60_000).toISOString(),
    to: new Date((last + 1) * 60_000).toISOString(),
  };
}

async function live<T>(reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (error) {
    throw redisUnavailable(error);
  }
}

// The influencer registry in Redis: which influencers a tenant tracks, at what interval, and how their loops
// are doing. The edge registers, stops and lists; the collector claims ticks and records what it saw.
// All keys are under the tenant's hash tag; see scripts.ts for the hash's fields.
import type { Redis } from "@upstash/redis";
import { keys } from "../keys.ts";
import { firstTickAt } from "./schedule.ts";
import { CLAIM_LUA, REGISTER_LUA, STOP_LUA } from "./scripts.ts";
import { ENTRY_FIELD, encodeEntry, type PointEntry, type StatusEntry } from "./stream.ts";

/** The Redis commands the registry uses; the edge's Workers client and the actors' client both fit. */
export type RegistryRedis = Pick<
  Redis,
  "createScript" | "pipeline" | "hgetall" | "zrange" | "zcard" | "xadd" | "hset" | "hincrby"
>;

/** How overdue (beyond one interval) an active loop's next tick must be before the loop counts as dead. */
export const STALL_GRACE_MS = 60_000;

export type RegisterVerdict = "created" | "restarted" | "revived" | "updated" | "unchanged";

export interface Registration {
  influencerId: string;
  verdict: RegisterVerdict;
  generation: string;
  /** The loop's next tick (for a new loop, its first). */
  nextTickAt: number;
  /** True when the caller must publish that tick (a new loop, or one whose first tick has not run yet). */
  publish: boolean;
}

type Scripts = Record<"register" | "stop" | "claim", ReturnType<RegistryRedis["createScript"]>>;
const scriptsByClient = new WeakMap<object, Scripts>();

/** One Script object per client and script, so EVALSHA's hash is computed once. */
function scripts(redis: RegistryRedis): Scripts {
  let found = scriptsByClient.get(redis);
  if (!found) {
    found = {
      register: redis.createScript(REGISTER_LUA),
      stop: redis.createScript(STOP_LUA),
      claim: redis.createScript(CLAIM_LUA),
    };
    scriptsByClient.set(redis, found);
  }
  return found;
}

/** A loop's name: starts with a letter, so no client mistakes it for a number. */
function newGeneration(): string {
  return `g${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Sorted-set members are JSON strings, so an id like "1e3" is read back as "1e3", not 1000. */
const member = (influencerId: string) => JSON.stringify(influencerId);

export interface RegisterRequest {
  tenantId: string;
  influencerIds: readonly string[];
  intervalSeconds: number;
  now: number;
  /** See `TickPrecisionMs` in schedule.ts. */
  precisionMs: number;
}

/** Registers (or re-registers) influencers in one script call; says which loops need their first tick published. */
export async function registerInfluencers(
  redis: RegistryRedis,
  request: RegisterRequest,
): Promise<Registration[]> {
  const { tenantId, influencerIds, intervalSeconds, now, precisionMs } = request;
  if (influencerIds.length === 0) return [];
  const args = [String(intervalSeconds), String(now), String(STALL_GRACE_MS)];
  for (const id of influencerIds) {
    args.push(
      member(id),
      newGeneration(),
      String(firstTickAt(tenantId, id, intervalSeconds, precisionMs, now)),
    );
  }
  const raw = (await scripts(redis).register.exec(
    [keys.influencers(tenantId), ...influencerIds.map((id) => keys.influencer(tenantId, id))],
    args,
  )) as unknown[];
  return influencerIds.map((influencerId, i) => ({
    influencerId,
    verdict: String(raw[4 * i]) as RegisterVerdict,
    generation: String(raw[4 * i + 1]),
    nextTickAt: Number(raw[4 * i + 2]),
    publish: Number(raw[4 * i + 3]) === 1,
  }));
}

export type StopVerdict = "missing" | "stopped" | "stopping";

export async function stopInfluencer(
  redis: RegistryRedis,
  tenantId: string,
  influencerId: string,
  now: number,
): Promise<StopVerdict> {
  return String(
    await scripts(redis).stop.exec([keys.influencer(tenantId, influencerId)], [String(now)]),
  ) as StopVerdict;
}

/**
 * How an influencer's collection is doing, as `GET /v1/influencers` shows it:
 * pending (no tick has run yet), active, failing (the provider's last answer was an error), stalled (the loop
 * missed its next tick by more than an interval plus a grace period: registering again revives it), stopped.
 */
export type InfluencerStatus = "pending" | "active" | "failing" | "stalled" | "stopped";

export interface InfluencerView {
  id: string;
  status: InfluencerStatus;
  intervalSeconds: number;
  createdAt: string;
  lastSeenAt: string | null;
  lastPointAt: string | null;
  nextTickAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  points: number;
  missed: number;
  failures: number;
}

/** One influencer's hash, read into a view; undefined when it was never registered. */
export function viewOf(
  influencerId: string,
  hash: Record<string, unknown> | null,
  now: number,
): InfluencerView | undefined {
  if (!hash || hash.status === undefined || hash.status === null) return undefined;
  const num = (name: string) =>
    hash[name] === undefined || hash[name] === null ? undefined : Number(hash[name]);
  const time = (name: string) => {
    const ms = num(name);
    return ms === undefined || ms === 0 ? null : new Date(ms).toISOString();
  };
  const intervalSeconds = num("interval") ?? 0;
  const nextAt = num("nextAt") ?? 0;
  const lastSeenAt = num("lastSeenAt") ?? 0;
  const lastErrorAt = num("lastErrorAt") ?? 0;
  let status: InfluencerStatus;
  if (hash.status === "stopped") status = "stopped";
  else if (now > nextAt + intervalSeconds * 1000 + STALL_GRACE_MS) status = "stalled";
  else if (lastErrorAt > lastSeenAt) status = "failing";
  else if (lastSeenAt === 0) status = "pending";
  else status = "active";
  return {
    id: influencerId,
    status,
    intervalSeconds,
    createdAt: time("createdAt") ?? new Date(0).toISOString(),
    lastSeenAt: time("lastSeenAt"),
    lastPointAt: time("lastPointAt"),
    nextTickAt: hash.status === "stopped" ? null : time("nextAt"),
    lastError: hash.lastError === undefined || hash.lastError === null ? null : decodeText(hash.lastError),
    lastErrorAt: time("lastErrorAt"),
    points: num("points") ?? 0,
    missed: num("missed") ?? 0,
    failures: num("failures") ?? 0,
  };
}

export async function getInfluencer(
  redis: RegistryRedis,
  tenantId: string,
  influencerId: string,
  now: number,
): Promise<InfluencerView | undefined> {
  return viewOf(influencerId, await redis.hgetall(keys.influencer(tenantId, influencerId)), now);
}

/** A page of the tenant's influencers in registration order, and how many there are in all. */
export async function listInfluencers(
  redis: RegistryRedis,
  tenantId: string,
  page: { offset: number; limit: number; now: number },
): Promise<{ total: number; influencers: InfluencerView[] }> {
  const index = keys.influencers(tenantId);
  const [members, total] = await Promise.all([
    redis.zrange(index, page.offset, page.offset + page.limit - 1),
    redis.zcard(index),
  ]);
  const ids = members.map(decodeText);
  if (ids.length === 0) return { total, influencers: [] };
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.influencer(tenantId, id));
  const hashes = (await pipeline.exec()) as (Record<string, unknown> | null)[];
  const influencers = ids.flatMap((id, i) => viewOf(id, hashes[i] ?? null, page.now) ?? []);
  return { total, influencers };
}

/** A JSON-quoted string as written, whether or not the client already parsed it. */
function decodeText(value: unknown): string {
  if (typeof value === "string" && value.startsWith('"')) return JSON.parse(value) as string;
  return String(value);
}

export type ClaimVerdict = "go" | "again" | "stopped" | "superseded" | "gone";

export interface Claim {
  verdict: ClaimVerdict;
  /** The tick to publish next (go / again). */
  nextTickAt: number;
  intervalSeconds: number;
  /** A point for this tick is already recorded (an earlier delivery got that far). */
  recorded: boolean;
  /** The tick started too late to read the provider before its next tick (see READ_WINDOW_MS): it collects nothing. */
  late: boolean;
}

/**
 * A tick that starts less than this long before its next tick is late: too little time is left to ask the
 * provider, and it would only add work when the collector is already behind.
 */
export const READ_WINDOW_MS = 100;

/** See CLAIM_LUA: whether a tick may run, and the next tick of its loop. */
export async function claimTick(
  redis: RegistryRedis,
  tick: { tenantId: string; influencerId: string; generation: string; at: number },
  now: number,
): Promise<Claim> {
  const raw = (await scripts(redis).claim.exec(
    [keys.influencer(tick.tenantId, tick.influencerId)],
    [tick.generation, String(tick.at), String(now), String(READ_WINDOW_MS)],
  )) as unknown[];
  return {
    verdict: String(raw[0]) as ClaimVerdict,
    nextTickAt: Number(raw[1] ?? 0),
    intervalSeconds: Number(raw[2] ?? 0),
    recorded: Number(raw[3] ?? 0) === 1,
    late: Number(raw[4] ?? 0) === 1,
  };
}

/** Where collected entries go: the stream and its length cap (`XADD … MAXLEN ~`). */
export interface PointsStream {
  key: string;
  maxLength: number;
}

/**
 * Appends a point to the stream, then marks it recorded in the influencer's hash. The commands are issued
 * together, so the client's auto-pipelining sends them in one round trip (shared with other ticks in flight),
 * in this order; an explicit pipeline costs several times more CPU. The stream and the hash live in different
 * slots, so this is not atomic: the append comes first, and a crash between the two at worst appends the point
 * twice, which the warehouse's primary key absorbs.
 */
export async function recordPoint(
  redis: RegistryRedis,
  stream: PointsStream,
  point: PointEntry,
): Promise<void> {
  const hash = keys.influencer(point.tenantId, point.influencerId);
  await Promise.all([
    redis.xadd(stream.key, "*", { [ENTRY_FIELD]: encodeEntry(point) }, cap(stream)),
    redis.hset(hash, { lastPointAt: point.ts, lastSeenAt: point.fetchedAt }),
    redis.hincrby(hash, "points", 1),
  ]);
}

/** A tick that got no answer from the provider: remembered on the hash and passed on to the warehouse row. */
export async function recordFailure(
  redis: RegistryRedis,
  stream: PointsStream,
  entry: StatusEntry & { error: string },
): Promise<void> {
  const hash = keys.influencer(entry.tenantId, entry.influencerId);
  await Promise.all([
    redis.xadd(stream.key, "*", { [ENTRY_FIELD]: encodeEntry(entry) }, cap(stream)),
    redis.hset(hash, { lastError: JSON.stringify(entry.error), lastErrorAt: entry.at }),
    redis.hincrby(hash, "failures", 1),
  ]);
}

/** Passes a status change (a loop that ended) on to the warehouse row. */
export async function recordStatus(
  redis: RegistryRedis,
  stream: PointsStream,
  entry: StatusEntry,
): Promise<void> {
  await redis.xadd(stream.key, "*", { [ENTRY_FIELD]: encodeEntry(entry) }, cap(stream));
}

function cap(stream: PointsStream) {
  return { trim: { type: "MAXLEN" as const, threshold: stream.maxLength, comparison: "~" as const } };
}

// Reading and writing the minute sets through the Upstash Redis client (REST), so the edge (Workers), the
// actors and the commands share one implementation. Every call is one script, one round trip, one slot.
import type { Redis } from "@upstash/redis";
import { keys } from "../keys.ts";
import {
  incrementsOf,
  type LeaderboardMetric,
  MAX_TOP_LIMIT,
  type MinuteAdTally,
  minuteExpiresAt,
  scoreToValue,
} from "./metrics.ts";
import {
  APPLY_SCRIPT,
  DUMP_SCRIPT,
  REPLACE_SCRIPT,
  SCORES_SCRIPT,
  SNAPSHOTS_SCRIPT,
  TOP_SCRIPT,
} from "./scripts.ts";

/** The part of the client this module uses; the Workers and Node builds of `Redis` both fit. */
export type LeaderboardRedis = Pick<Redis, "evalsha" | "eval">;

/** EVALSHA, and EVAL when the server does not know the script yet (after a restart or SCRIPT FLUSH). */
class LuaScript {
  private sha: Promise<string> | undefined;
  constructor(readonly source: string) {}

  async run<T>(redis: LeaderboardRedis, keyList: string[], args: (string | number)[]): Promise<T> {
    this.sha ??= sha1Hex(this.source);
    const argv = args.map(String);
    try {
      return (await redis.evalsha(await this.sha, keyList, argv)) as T;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.toUpperCase().includes("NOSCRIPT")) throw error;
      return (await redis.eval(this.source, keyList, argv)) as T;
    }
  }
}

const applyScript = new LuaScript(APPLY_SCRIPT);
const topScript = new LuaScript(TOP_SCRIPT);
const scoresScript = new LuaScript(SCORES_SCRIPT);
const dumpScript = new LuaScript(DUMP_SCRIPT);
const replaceScript = new LuaScript(REPLACE_SCRIPT);
const snapshotsScript = new LuaScript(SNAPSHOTS_SCRIPT);

export interface ApplyResult {
  /** The tenant's data version after the bump. */
  dataVersion: number;
  /** False when the marker shows these increments were added before (a redelivery). */
  applied: boolean;
}

/**
 * Bumps the tenant's data version and, unless `attemptId`'s marker exists, adds the tally to the minute sets
 * and sets the marker — atomically, so increments are added at most once per attempt id.
 *
 * @example await applyLeaderboardTally(redis, "acme", attemptId, tally);
 */
export async function applyLeaderboardTally(
  redis: LeaderboardRedis,
  tenantId: string,
  attemptId: string,
  tally: readonly MinuteAdTally[],
  now = Date.now(),
): Promise<ApplyResult> {
  // A set whose expiry has passed is gone for good; adding to it would only recreate it for nothing.
  const nowSeconds = Math.floor(now / 1000);
  const sets = incrementsOf(tally).filter((set) => minuteExpiresAt(set.minute) > nowSeconds);
  const keyList = [keys.dataVersion(tenantId)];
  const args: (string | number)[] = [];
  if (sets.length > 0) {
    keyList.push(keys.topApplied(tenantId, attemptId));
    args.push(Math.max(nowSeconds + 60, ...sets.map((set) => minuteExpiresAt(set.minute))));
    args.push(MAX_TOP_LIMIT);
    for (const set of sets) {
      keyList.push(
        keys.top(tenantId, set.metric, set.minute),
        keys.topSnapshot(tenantId, set.metric, set.minute),
      );
      args.push(minuteExpiresAt(set.minute), set.increments.length);
      for (const [ad, amount] of set.increments) args.push(ad, amount);
    }
  }
  const [dataVersion, applied] = await applyScript.run<[number, number]>(redis, keyList, args);
  return { dataVersion: Number(dataVersion), applied: Number(applied) === 1 };
}

export interface RankedAd {
  ad: string;
  value: number;
}

/**
 * The `limit` best ads by `metric` over the given minutes, best first.
 *
 * @example await topAds(redis, "acme", "clicks", windowMinutes(Date.now(), 5), 100)
 */
export async function topAds(
  redis: LeaderboardRedis,
  tenantId: string,
  metric: LeaderboardMetric,
  minutes: readonly number[],
  limit: number,
): Promise<RankedAd[]> {
  const keyList = [
    keys.topScratch(tenantId, crypto.randomUUID()),
    ...minutes.map((minute) => keys.top(tenantId, metric, minute)),
  ];
  const flat = jsonList(await topScript.run<unknown>(redis, keyList, [limit]));
  const ranked: RankedAd[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    ranked.push({ ad: String(flat[i]), value: scoreToValue(metric, Number(flat[i + 1])) });
  }
  return ranked;
}

/** One ad's value of `metric` in each of the given minutes, in the same order. */
export async function adValues(
  redis: LeaderboardRedis,
  tenantId: string,
  metric: LeaderboardMetric,
  ad: string,
  minutes: readonly number[],
): Promise<number[]> {
  const keyList = minutes.map((minute) => keys.top(tenantId, metric, minute));
  const scores = jsonList(await scoresScript.run<unknown>(redis, keyList, [ad]));
  return minutes.map((_, i) => scoreToValue(metric, Number(scores[i] ?? 0)));
}

/** Every set's content as raw scores (spend in millionths), by key; missing sets are empty maps. */
export async function readSets(
  redis: LeaderboardRedis,
  keyList: readonly string[],
): Promise<Map<string, number>[]> {
  if (keyList.length === 0) return [];
  const dumped = jsonList(await dumpScript.run<unknown>(redis, [...keyList], []));
  return keyList.map((_, i) => {
    const flat = jsonList(dumped[i]);
    const scores = new Map<string, number>();
    for (let j = 0; j + 1 < flat.length; j += 2) scores.set(String(flat[j]), Number(flat[j + 1]));
    return scores;
  });
}

/** Each snapshot's entries as `[ad, rawScore]` pairs, best first; undefined where there is no snapshot. */
export async function readSnapshots(
  redis: LeaderboardRedis,
  keyList: readonly string[],
): Promise<([string, number][] | undefined)[]> {
  if (keyList.length === 0) return [];
  const texts = jsonList(await snapshotsScript.run<unknown>(redis, [...keyList], []));
  return keyList.map((_, i) => {
    const text = texts[i];
    if (typeof text !== "string" || text === "") return undefined;
    const flat = jsonList(text);
    const pairs: [string, number][] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) pairs.push([String(flat[j]), Number(flat[j + 1])]);
    return pairs;
  });
}

/** A set's top entries in the order Redis keeps them: score descending, ties by ad bytes descending. */
export function expectedSnapshot(
  scores: ReadonlyMap<string, number>,
  keep = MAX_TOP_LIMIT,
): [string, number][] {
  const encoder = new TextEncoder();
  const bytes = new Map([...scores.keys()].map((ad) => [ad, encoder.encode(ad)]));
  return [...scores]
    .sort(
      ([adA, a], [adB, b]) =>
        b - a || compareBytes(bytes.get(adB) as Uint8Array, bytes.get(adA) as Uint8Array),
    )
    .slice(0, keep);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

export interface SetContent {
  tenantId: string;
  metric: LeaderboardMetric;
  minute: number;
  /** Raw scores (spend in millionths); empty deletes the set. */
  scores: ReadonlyMap<string, number>;
}

/** Rewrites sets whole, and their snapshots; each keeps its minute's expiry. */
export async function replaceSets(redis: LeaderboardRedis, sets: readonly SetContent[]): Promise<void> {
  if (sets.length === 0) return;
  const keyList: string[] = [];
  const args: (string | number)[] = [MAX_TOP_LIMIT];
  for (const set of sets) {
    keyList.push(
      keys.top(set.tenantId, set.metric, set.minute),
      keys.topSnapshot(set.tenantId, set.metric, set.minute),
    );
    args.push(minuteExpiresAt(set.minute), set.scores.size);
    for (const [ad, score] of set.scores) args.push(ad, score);
  }
  await replaceScript.run<number>(redis, keyList, args);
}

/**
 * A one-minute top list from the minute's snapshot (as read by a plain GET, parsed or not), or undefined
 * when there is none, in which case the set is empty or the snapshot is being written: ask `topAds`.
 */
export function topFromSnapshot(
  value: unknown,
  metric: LeaderboardMetric,
  limit: number,
): RankedAd[] | undefined {
  if (value === null || value === undefined) return undefined;
  const flat = jsonList(value);
  const ranked: RankedAd[] = [];
  for (let i = 0; i + 1 < flat.length && ranked.length < limit; i += 2) {
    ranked.push({ ad: String(flat[i]), value: scoreToValue(metric, Number(flat[i + 1])) });
  }
  return ranked;
}

/** A script's JSON reply as a list: the client may have parsed it already, and cjson writes [] as {}. */
function jsonList(reply: unknown): unknown[] {
  const value = typeof reply === "string" ? JSON.parse(reply) : reply;
  return Array.isArray(value) ? value : [];
}

async function sha1Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

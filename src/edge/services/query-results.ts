// Reading a query's outcome: its status record, its place in the lane, the cached result, and waiting for the
// completion event on the tenant's stream (blocking XREAD through the REST protocol, bounded by the wait).
import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../../domain/keys.ts";
import type { CachedResult, QueryStatus, QueryStatusRecord } from "../../domain/query-jobs.ts";
import { hashFromFields, RedisBatch, RedisCommandError } from "./redis-batch.ts";

/** What is known about a query at one moment. */
export interface QuerySnapshot {
  status: QueryStatusRecord | null;
  /** 1-based place among the tenant's waiting queries, when the lane says. */
  position?: number;
  /** The cache entry for the query's hash (read when the hash was known or the query is done). */
  entry: CachedResult | null;
}

const STATUSES: readonly QueryStatus[] = ["queued", "running", "done", "error"];
const EVENTS_PER_READ = 100;
/** Polling interval when the Redis endpoint cannot block on XREAD. */
const POLL_MS = 50;

export function isFinished(status: QueryStatusRecord | null): boolean {
  return status?.status === "done" || status?.status === "error";
}

/** The status hash as an object of its fields (as text, or as the client JSON-parsed them). */
export function statusFromHash(hash: Record<string, unknown> | null | undefined): QueryStatusRecord | null {
  if (!hash || !STATUSES.includes(hash.status as QueryStatus)) return null;
  const num = (name: string) => {
    const value = Number(hash[name]);
    return hash[name] === undefined || hash[name] === null || !Number.isFinite(value) ? undefined : value;
  };
  const record: QueryStatusRecord = {
    status: hash.status as QueryStatus,
    hash: String(hash.hash ?? ""),
    dataVersion: num("dataVersion") ?? 0,
    createdAt: num("createdAt") ?? 0,
  };
  for (const name of ["startedAt", "finishedAt", "rowCount"] as const) {
    const value = num(name);
    if (value !== undefined) record[name] = value;
  }
  if (hash.error !== undefined && hash.error !== null) record.error = String(hash.error);
  return record;
}

/** A cache entry as GET returns it (the client parses JSON; a raw string is parsed here). */
export function cachedResultFrom(value: unknown): CachedResult | null {
  let entry = value;
  if (typeof entry === "string") {
    try {
      entry = JSON.parse(entry);
    } catch {
      return null;
    }
  }
  if (entry === null || typeof entry !== "object") return null;
  const candidate = entry as Partial<CachedResult>;
  const valid =
    typeof candidate.queryId === "string" &&
    Number.isSafeInteger(candidate.dataVersion) &&
    typeof candidate.computedAt === "number" &&
    Array.isArray(candidate.data);
  return valid ? (candidate as CachedResult) : null;
}

/** Fresh: computed for the tenant's current data version, and younger than the TTL. */
export function isFresh(entry: CachedResult, dataVersion: number, ttlSeconds: number, now: number): boolean {
  return entry.dataVersion === dataVersion && now < entry.computedAt + ttlSeconds * 1000;
}

export class QueryResults {
  private canBlock = true;

  constructor(private readonly redis: Redis) {}

  /** Status, lane position and (given the hash, or once done) the cache entry, in one round trip. */
  async snapshot(
    tenantId: string,
    queryId: string,
    hash?: string,
  ): Promise<QuerySnapshot & { lastEventId: string }> {
    const batch = new RedisBatch(this.redis);
    // The stream position is read before the status: an event added between the two reads is then seen
    // either in the status or by the XREAD that starts from this position.
    const last = batch.queue<[string, unknown][] | null>([
      "xrevrange",
      keys.done(tenantId),
      "+",
      "-",
      "COUNT",
      1,
    ]);
    const statusFields = batch.queue<unknown>(["hgetall", keys.query(tenantId, queryId)]);
    const rank = batch.queue<number | null>(["zrank", keys.lane(tenantId), queryId]);
    const cached = hash ? batch.queue<unknown>(["get", keys.cache(tenantId, hash)]) : undefined;
    await batch.send();
    const status = statusFromHash(hashFromFields(await statusFields));
    const lastEventId = (await last)?.[0]?.[0] ?? "0-0";
    // The lane may not be a sorted set of query ids: then there is no position to report.
    const position = await rank.then(
      (value) => (typeof value === "number" ? value + 1 : undefined),
      () => undefined,
    );
    let entry = cachedResultFrom(cached ? await cached : null);
    if (!entry && status?.status === "done" && status.hash) {
      entry = cachedResultFrom(await this.redis.get(keys.cache(tenantId, status.hash)));
    }
    return { status, entry, lastEventId, ...(status?.status === "queued" && position ? { position } : {}) };
  }

  /**
   * Waits up to `waitMs` for the query to finish and returns what is known then. Reading never consumes
   * anything: every waiter of the same query sees the same event and the same cached result.
   */
  async settle(tenantId: string, queryId: string, waitMs: number, hash?: string): Promise<QuerySnapshot> {
    const first = await this.snapshot(tenantId, queryId, hash);
    if (!first.status || isFinished(first.status) || waitMs <= 0) return first;
    const deadline = Date.now() + waitMs;
    let lastId = first.lastEventId;
    for (let remaining = waitMs; remaining > 0; remaining = deadline - Date.now()) {
      const next = await this.nextEvents(tenantId, lastId, remaining);
      if (next === "cannot-block") {
        const polled = await this.snapshot(tenantId, queryId, hash);
        if (isFinished(polled.status)) return polled;
        await sleep(Math.min(POLL_MS, deadline - Date.now()));
        continue;
      }
      for (const event of next) {
        lastId = event.id;
        if (event.queryId === queryId) return this.snapshot(tenantId, queryId, hash);
      }
    }
    return this.snapshot(tenantId, queryId, hash);
  }

  /** Completion events after `lastId`, blocking up to `blockMs`; its own request, never auto-pipelined. */
  private async nextEvents(
    tenantId: string,
    lastId: string,
    blockMs: number,
  ): Promise<{ id: string; queryId: string }[] | "cannot-block"> {
    if (!this.canBlock) return "cannot-block";
    const pipeline = this.redis.pipeline();
    pipeline.xread(keys.done(tenantId), lastId, {
      count: EVENTS_PER_READ,
      blockMS: Math.max(1, Math.ceil(blockMs)),
    });
    const [reply] = (await pipeline.exec({ keepErrors: true })) as { result?: unknown; error?: string }[];
    if (reply?.error !== undefined) {
      // An endpoint that refuses blocking reads: poll from now on. Other errors are real.
      if (/block|not allowed|unknown command/i.test(reply.error)) {
        this.canBlock = false;
        return "cannot-block";
      }
      throw new RedisCommandError(reply.error);
    }
    const streams = (reply?.result ?? []) as [string, [string, unknown[]][]][];
    return streams.flatMap(([, entries]) =>
      entries.map(([id, fields]) => ({ id, queryId: fieldOf(fields, "queryId") })),
    );
  }
}

function fieldOf(fields: unknown[], name: string): string {
  for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === name) return String(fields[i + 1]);
  return "";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

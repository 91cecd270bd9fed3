// The influencer sink: drains the points stream into the warehouse. It runs as a background loop inside each
// actors host (a consumer-group reader needs a long-running process, and the host is the long-running Bun
// process that already holds the Postgres pool and the Redis client). Every host is one consumer of the same
// group, so hosts share the stream; a host that dies leaves its unacknowledged entries pending, and it reads
// them first when it restarts (stable consumer name), or another host takes them over after `claimIdleMs`.
//
// Per batch: one read (XREADGROUP), one transaction (a multi-row insert that skips points already stored, and
// the `influencers` rows), then XACK + XDEL. Nothing is acknowledged before the commit, so while the warehouse
// is down the batch is retried with backoff and every later point waits in the stream.
import type { Redis } from "@upstash/redis";
import postgres from "postgres";
import { decodeEntry, ENTRY_FIELD, type StreamEntry } from "../src/domain/influencers/stream.ts";
import type { Warehouse } from "../src/warehouse/db.ts";
import {
  InfluencerPartitions,
  type InfluencerRowUpdate,
  type PointRow,
  writeInfluencerBatch,
} from "../src/warehouse/influencers.ts";
import { isMissingPartitionError } from "../src/warehouse/ingest.ts";
import type { InfluencerConfig } from "./influencers/config.ts";
import { errorFields, type Logger } from "./log.ts";

export interface SinkOptions {
  redis: Redis;
  warehouse: Pick<Warehouse, "db" | "sql">;
  config: Pick<InfluencerConfig, "stream" | "sink">;
  log: Logger;
}

export interface SinkStats {
  batches: number;
  /** Points newly stored. */
  stored: number;
  /** Points skipped because the warehouse already had them (a tick delivered twice, a batch written twice). */
  duplicates: number;
  /** Entries dropped because the warehouse refused their data (logged one by one). */
  rejected: number;
  /** Failed writes, each retried. */
  writeFailures: number;
  lastError: string | null;
}

export interface RunningSink {
  stats(): SinkStats;
  /**
   * Finishes the batch in hand (or abandons its retries: the entries stay pending and are read again on
   * restart), then resolves; gives up waiting after `timeoutMs` (a write stuck on an unreachable warehouse).
   */
  stop(timeoutMs?: number): Promise<void>;
}

interface Entry {
  id: string;
  entry: StreamEntry | undefined;
}

const MAX_BACKOFF_MS = 5000;
/** Consumers idle this long with nothing pending are removed from the group, checked this often. */
const CONSUMER_IDLE_MS = 3_600_000;
const PRUNE_EVERY_MS = 600_000;

export function startInfluencerSink(options: SinkOptions): RunningSink {
  const { redis, warehouse, log } = options;
  const { stream, sink } = options.config;
  const stats: SinkStats = {
    batches: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    writeFailures: 0,
    lastError: null,
  };
  const partitions = new InfluencerPartitions();
  let stopping = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const command = <T>(args: (string | number)[]) => redis.exec<T>(args as [string, ...(string | number)[]]);

  /**
   * Creates the group once the stream exists (the collector's first point makes it), reading it from the start.
   * Not creating the stream itself keeps hosts that never collect (tests, throwaway databases) from leaving
   * empty streams behind. Returns false while there is no stream yet.
   */
  async function ensureGroup(): Promise<boolean> {
    try {
      await command(["XGROUP", "CREATE", stream.key, sink.group, "0"]);
      return true;
    } catch (error) {
      if (String(error).includes("BUSYGROUP")) return true;
      if (/requires the key to exist|no such key/i.test(String(error))) return false;
      throw error;
    }
  }

  async function read(id: ">" | "0"): Promise<Entry[]> {
    const args: (string | number)[] = [
      "XREADGROUP",
      "GROUP",
      sink.group,
      sink.consumer,
      "COUNT",
      sink.batchSize,
    ];
    if (id === ">") args.push("BLOCK", sink.blockMs);
    const reply = await command<[string, [string, unknown[] | null][]][] | null>([
      ...args,
      "STREAMS",
      stream.key,
      id,
    ]);
    return entriesOf(reply?.[0]?.[1] ?? []);
  }

  let claimCursor = "0-0";
  async function claimAbandoned(): Promise<Entry[]> {
    const reply = await command<[string, [string, unknown[] | null][], unknown[]]>([
      "XAUTOCLAIM",
      stream.key,
      sink.group,
      sink.consumer,
      sink.claimIdleMs,
      claimCursor,
      "COUNT",
      sink.batchSize,
    ]);
    claimCursor = String(reply[0]);
    return entriesOf(reply[1] ?? []);
  }

  /**
   * Hosts come and go (a pid-named consumer never comes back): forget consumers that hold nothing and have been
   * idle an hour, so the group's consumer list stays short.
   */
  async function pruneConsumers(): Promise<void> {
    const consumers = await command<unknown[][]>(["XINFO", "CONSUMERS", stream.key, sink.group]);
    for (const fields of consumers) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]);
      const name = String(info.get("name"));
      if (
        name !== sink.consumer &&
        Number(info.get("pending")) === 0 &&
        Number(info.get("idle")) > CONSUMER_IDLE_MS
      ) {
        await command(["XGROUP", "DELCONSUMER", stream.key, sink.group, name]);
      }
    }
  }

  async function acknowledge(entries: Entry[]): Promise<void> {
    const ids = entries.map((e) => e.id);
    const pipeline = redis.pipeline();
    pipeline.xack(stream.key, sink.group, ids);
    // Acknowledged entries are deleted, so the stream's length is the backlog and MAXLEN caps only the backlog.
    pipeline.xdel(stream.key, ids);
    await pipeline.exec();
  }

  /** Writes the batch, retrying with backoff until it commits or the sink stops. */
  async function store(entries: Entry[]): Promise<boolean> {
    let backoff = 100;
    for (;;) {
      try {
        await write(entries);
        return true;
      } catch (error) {
        stats.writeFailures++;
        stats.lastError = error instanceof Error ? error.message : String(error);
        if (isMissingPartitionError(error)) partitions.forget();
        else if (isDataError(error)) return writeOneByOne(entries);
        log.warn("influencer sink: write failed, retrying", {
          ...errorFields(error),
          entries: entries.length,
          backoffMs: backoff,
        });
        if (stopping) return false;
        await sleep(backoff);
        if (stopping) return false;
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  async function write(entries: Entry[]): Promise<void> {
    const { points, updates } = fold(entries);
    await partitions.ensureFor(warehouse.db, points);
    const stored = await writeInfluencerBatch(warehouse.sql, points, updates);
    stats.batches++;
    stats.stored += stored;
    stats.duplicates += points.length - stored;
  }

  /** A batch the warehouse refuses as data: find the entries at fault, log and drop them, keep the rest. */
  async function writeOneByOne(entries: Entry[]): Promise<boolean> {
    for (const entry of entries) {
      try {
        await write([entry]);
      } catch (error) {
        if (!isDataError(error)) return store(entries); // the warehouse went away meanwhile: start over
        stats.rejected++;
        log.error("influencer sink: entry rejected by the warehouse", {
          ...errorFields(error),
          id: entry.id,
          entry: entry.entry,
        });
      }
    }
    return true;
  }

  async function loop(): Promise<void> {
    let ownPending = true; // entries this consumer read before a restart come first
    let lastClaimAt = 0;
    let lastPruneAt = 0;
    let backoff = 100;
    let groupReady = false;
    while (!stopping) {
      try {
        if (!groupReady) {
          groupReady = await ensureGroup();
          if (!groupReady) {
            await sleep(sink.blockMs);
            continue;
          }
        }
        let entries: Entry[] = [];
        if (ownPending) {
          entries = await read("0");
          if (entries.length === 0) ownPending = false;
        } else if (Date.now() - lastClaimAt >= sink.claimIdleMs / 2) {
          lastClaimAt = Date.now();
          entries = await claimAbandoned();
          if (Date.now() - lastPruneAt >= PRUNE_EVERY_MS) {
            lastPruneAt = Date.now();
            await pruneConsumers();
          }
        }
        if (entries.length === 0 && !ownPending) entries = await read(">");
        backoff = 100;
        if (entries.length === 0 || stopping) continue;
        const malformed = entries.filter((e) => e.entry === undefined);
        for (const bad of malformed)
          log.error("influencer sink: dropping an unreadable entry", { id: bad.id });
        if (!(await store(entries))) break;
        await acknowledge(entries);
        if (sink.lingerMs > 0 && entries.length < sink.batchSize / 2 && !ownPending)
          await sleep(sink.lingerMs);
      } catch (error) {
        // Redis did not answer: whatever was read stays pending and is read again from this consumer's list.
        ownPending = true;
        if (String(error).includes("NOGROUP")) groupReady = false;
        stats.lastError = error instanceof Error ? error.message : String(error);
        log.warn("influencer sink: Redis failed, retrying", { ...errorFields(error), backoffMs: backoff });
        await sleep(backoff);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  const running = loop();
  return {
    stats: () => ({ ...stats }),
    async stop(timeoutMs = 5000) {
      stopping = true;
      wake?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([running, gaveUp]);
      clearTimeout(timer);
    },
  };
}

function entriesOf(raw: [string, unknown[] | null][]): Entry[] {
  return raw
    .filter((item) => Array.isArray(item))
    .map(([id, fields]) => {
      // A pending entry already trimmed from the stream comes back without fields: it is acknowledged and logged.
      const at = fields?.findIndex((field, i) => i % 2 === 0 && field === ENTRY_FIELD) ?? -1;
      return { id: String(id), entry: at < 0 ? undefined : decodeEntry(fields?.[at + 1]) };
    });
}

/** Points to insert, and per influencer what its `influencers` row should say after the batch. */
export function fold(entries: readonly Entry[]): { points: PointRow[]; updates: InfluencerRowUpdate[] } {
  const points: PointRow[] = [];
  const updates = new Map<string, InfluencerRowUpdate>();
  for (const { entry } of entries) {
    if (!entry) continue;
    const key = `${entry.tenantId}\u0000${entry.influencerId}`;
    const row: InfluencerRowUpdate = updates.get(key) ?? {
      tenantId: entry.tenantId,
      influencerId: entry.influencerId,
      intervalSeconds: entry.intervalSeconds,
      status: "active",
      lastSeenAt: null,
      lastError: undefined,
    };
    row.intervalSeconds = entry.intervalSeconds;
    if (entry.kind === "point") {
      points.push({
        tenantId: entry.tenantId,
        influencerId: entry.influencerId,
        ts: entry.ts,
        counters: entry.counters,
      });
      row.status = "active";
      row.lastSeenAt = Math.max(row.lastSeenAt ?? 0, entry.fetchedAt);
      row.lastError = null;
    } else {
      row.status = entry.status;
      if (entry.error !== null) row.lastError = entry.error;
    }
    updates.set(key, row);
  }
  return { points, updates: [...updates.values()] };
}

/** Postgres refused the data itself (SQLSTATE class 22, e.g. a value out of range): retrying cannot help. */
function isDataError(error: unknown): boolean {
  const candidate = (error as { cause?: unknown })?.cause ?? error;
  return candidate instanceof postgres.PostgresError && candidate.code.startsWith("22");
}

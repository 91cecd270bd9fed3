// The query path's actor half, end to end and real: a throwaway migrated warehouse, the Redis REST bridge and
// the QStash broker in this process, the actors host serving the query actor, and an "edge" that does what
// src/edge does before publishing (status record, single-flight key, publish in the tenant's lane).
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import type { AnyActor } from "../../actors/define.ts";
import { type RunningActorsHost, serveActors } from "../../actors/host.ts";
import { warehouseKeysFor } from "../../actors/lanes/warehouse-semaphore.ts";
import { createLogger } from "../../actors/log.ts";
import type { QueryActorConfig } from "../../actors/query/config.ts";
import { createQueryActor } from "../../actors/query.ts";
import { keys } from "../../src/domain/keys.ts";
import {
  compileQuery,
  decodeRows,
  parseQuery,
  type Query,
  queryHash,
  type ResultRow,
} from "../../src/domain/query/index.ts";
import {
  type CachedResult,
  QUERY_STATUS_TTL_SECONDS,
  type QueryJobMessage,
} from "../../src/domain/query-jobs.ts";
import { type QStashBroker, startQStash } from "../../src/local/qstash/broker.ts";
import { BrokerStore } from "../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../src/local/qstash/store/redis-link.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { type ActorsTarget, publishToActor } from "../../src/publisher/index.ts";
import { openWarehouse, type Warehouse } from "../../src/warehouse/db.ts";
import { migrate } from "../../src/warehouse/migrate.ts";
import { ensurePartitions } from "../../src/warehouse/partitions.ts";
import { type EventToStore, eventDaySpan, insertEventsWithRollups } from "../../src/warehouse/rollups.ts";
import { throwawayDatabase } from "../warehouse/helpers.ts";
import { QSTASH_TOKEN, SIGNING } from "./support.ts";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

export interface QueryStack {
  redis: Redis;
  bridge: RedisRest;
  bridgeToken: string;
  broker: QStashBroker;
  target: ActorsTarget;
  warehouse: Warehouse;
  databaseUrl: string;
  host: RunningActorsHost;
  logs: LogLine[];
  config: QueryActorConfig;
  /** Prefix of every tenant id the stack makes; all their keys are deleted by `stop`. */
  prefix: string;
  tenant(name: string): string;
  stop(): Promise<void>;
}

export interface QueryStackOptions {
  config?: Partial<QueryActorConfig>;
  /** Default 0.01: a 2 s later is 20 ms. */
  timeScale?: number;
  /** The actors host's pool. Default 4. */
  poolMax?: number;
  /** Point the host at another database (e.g. one that refuses connections). */
  hostDatabaseUrl?: string;
  /** Serve on this port (tests that restart a host on the same URL). */
  port?: number;
  actors?: (config: QueryActorConfig) => AnyActor[];
}

export async function startQueryStack(options: QueryStackOptions = {}): Promise<QueryStack> {
  const run = crypto.randomUUID().slice(0, 8);
  const prefix = `qa${run}`;
  const restToken = `query-test-${run}`;
  const target_ = throwawayDatabase();
  await migrate(target_.url);
  const warehouse = openWarehouse(target_.url, { max: 2 });
  const bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token: restToken });
  const brokerPrefix = `test-query-${run}`;
  const broker = await startQStash({
    redisUrl: REDIS_URL,
    port: 0,
    keyPrefix: brokerPrefix,
    timeScale: options.timeScale ?? 0.01,
    log: () => {},
  });
  const config: QueryActorConfig = {
    warehouseConcurrency: 4,
    defaultTenantConcurrency: 2,
    leaseTtlMs: 10_000,
    statementTimeoutMs: 5_000,
    holdMs: 2_000,
    pollMs: 50,
    parkDelayMs: 2_000,
    transientRetries: 2,
    warehouseKeys: warehouseKeysFor(`{${prefix}}:wh:sem`),
    ...options.config,
  };
  const logs: LogLine[] = [];
  const hostWarehouse = openWarehouse(options.hostDatabaseUrl ?? target_.url, {
    max: options.poolMax ?? 4,
    connectTimeoutSeconds: 2,
  });
  const redis = new Redis({ url: bridge.url, token: restToken });
  const host = serveActors({
    port: options.port ?? 0,
    hostname: "127.0.0.1",
    actors: options.actors ? options.actors(config) : [createQueryActor(config)],
    warehouse: hostWarehouse,
    redis,
    qstash: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
    receiver: new Receiver({ currentSigningKey: SIGNING.current, nextSigningKey: SIGNING.next }),
    log: createLogger({}, (_level, line) => logs.push(JSON.parse(line))),
  });
  const target: ActorsTarget = {
    client: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
    actorsUrl: host.publicUrl,
  };
  return {
    redis,
    bridge,
    bridgeToken: restToken,
    broker,
    target,
    warehouse,
    databaseUrl: target_.url,
    host,
    logs,
    config,
    prefix,
    tenant: (name) => `${prefix}-${name}`,
    async stop() {
      await host.stop(true);
      await broker.stop();
      for (const pattern of [`{t:${prefix}*`, `{${prefix}}*`]) {
        const found = await redis.keys(pattern);
        if (found.length > 0) await redis.del(...found);
      }
      await bridge.stop();
      const link = await RedisLink.open(REDIS_URL, "query-test-cleanup");
      await new BrokerStore(link, brokerPrefix).destroyAll();
      await link.close();
      await hostWarehouse.close();
      await warehouse.close();
      await target_.drop();
    },
  };
}

/** Stores events for a tenant through the ingest write (raw rows + rollups). */
export async function seed(wh: Warehouse, tenantId: string, events: readonly EventToStore[]): Promise<void> {
  const span = eventDaySpan(events);
  if (span) {
    await ensurePartitions(wh.db, "ad_events", span[0], span[1]);
    await ensurePartitions(wh.db, "ad_rollup_minute", span[0], span[1]);
  }
  await insertEventsWithRollups(wh.db, tenantId, events);
}

/** `count` events spread over two days in November 2026, over a few channels, campaigns, ads and countries. */
export function sampleEvents(tenantId: string, count: number, campaignPrefix = "c"): EventToStore[] {
  const kinds = ["impression", "impression", "impression", "view", "click", "conversion"] as const;
  const start = Date.UTC(2026, 10, 1);
  return Array.from({ length: count }, (_, i) => ({
    eventId: `${tenantId}-${i}`,
    ts: new Date(start + ((i * 7919) % (2 * 86_400)) * 1000),
    kind: kinds[i % kinds.length] as (typeof kinds)[number],
    channel: ["google", "meta", "tiktok"][i % 3] as string,
    campaign: `${campaignPrefix}${i % 4}`,
    ad: `ad${i % 9}`,
    country: ["US", "FR", "DE"][i % 3] as string,
    city: ["Austin", "Paris", "Berlin"][i % 3] as string,
    cost: String((i % 5) * 0.25),
    revenue: String(i % 6 === 5 ? 3 : 0),
  }));
}

export interface Submitted {
  queryId: string;
  hash: string;
  message: QueryJobMessage;
}

export interface SubmitOptions {
  askedAt?: number;
  dataVersion?: number;
  /** Flow-control parallelism (the tenant's limit at the edge). Default 2. */
  parallelism?: number;
  /** Publish this instead of the canonical query (with the canonical hash). */
  rawQuery?: unknown;
  hash?: string;
  retries?: number;
}

let sequence = 0;

/** Does what the edge does for a cache miss: status `queued`, single-flight key, publish in the tenant's lane. */
export async function submit(
  stack: QueryStack,
  tenantId: string,
  query: Query,
  options: SubmitOptions = {},
): Promise<Submitted> {
  const askedAt = options.askedAt ?? Date.now();
  const parsed = parseQuery(query, { now: askedAt });
  if (!parsed.ok) throw new Error(`test query invalid: ${JSON.stringify(parsed.errors)}`);
  const { hash, canonical } = await queryHash(parsed.query, askedAt);
  const queryId = `q${(++sequence).toString(16).padStart(4, "0")}${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const dataVersion = options.dataVersion ?? 0;
  const message: QueryJobMessage = {
    queryId,
    tenantId,
    hash: options.hash ?? hash,
    dataVersion,
    query: options.rawQuery ?? canonical,
    askedAt,
    cacheTtlSeconds: 60,
    staleGraceSeconds: 600,
  };
  await stack.redis.set(keys.inflight(tenantId, message.hash), queryId, { ex: 600 });
  await stack.redis.hset(keys.query(tenantId, queryId), {
    status: "queued",
    hash: message.hash,
    dataVersion,
    createdAt: askedAt,
  });
  await stack.redis.expire(keys.query(tenantId, queryId), QUERY_STATUS_TTL_SECONDS);
  await publishToActor(stack.target, {
    actor: "query",
    body: message,
    flowControl: { key: tenantId, parallelism: options.parallelism ?? 2 },
    deduplicationId: queryId,
    retries: options.retries,
  });
  return { queryId, hash: message.hash, message };
}

export interface CompletionSeen {
  id: string;
  queryId: string;
  status: string;
  rowCount?: string;
  error?: string;
}

/** Every completion event on the tenant's stream, oldest first. */
export async function completions(stack: QueryStack, tenantId: string): Promise<CompletionSeen[]> {
  const entries = await stack.redis.xrange(keys.done(tenantId), "-", "+");
  return Object.entries(entries).map(([id, fields]) => {
    const f = fields as Record<string, unknown>;
    const event: CompletionSeen = { id, queryId: String(f.queryId), status: String(f.status) };
    if (f.rowCount !== undefined) event.rowCount = String(f.rowCount);
    if (f.error !== undefined) event.error = String(f.error);
    return event;
  });
}

export async function waitForCompletion(
  stack: QueryStack,
  tenantId: string,
  queryId: string,
  ms = 10_000,
): Promise<CompletionSeen> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = (await completions(stack, tenantId)).find((event) => event.queryId === queryId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no completion for ${queryId} within ${ms} ms`);
    await Bun.sleep(10);
  }
}

export async function cachedResult(
  stack: QueryStack,
  tenantId: string,
  hash: string,
): Promise<CachedResult | null> {
  const value = await stack.redis.get<unknown>(keys.cache(tenantId, hash));
  if (value === null) return null;
  return (typeof value === "string" ? JSON.parse(value) : value) as CachedResult;
}

export async function statusOf(stack: QueryStack, tenantId: string, queryId: string) {
  return stack.redis.hgetall<Record<string, unknown>>(keys.query(tenantId, queryId));
}

/** The same query compiled and run directly on the warehouse: what the cached rows must equal. */
export async function runDirectly(
  wh: Warehouse,
  tenantId: string,
  query: Query,
  now: number,
): Promise<ResultRow[]> {
  const compiled = compileQuery(query, { tenantId, now });
  return decodeRows(compiled.columns, await wh.sql.unsafe(compiled.text, compiled.params as never[]));
}

export { waitUntil } from "../support/wait.ts";

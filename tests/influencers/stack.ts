// The collector's world in this process: the Redis REST bridge, the QStash broker at real time (scale 1: the
// collector's cadence is the thing under test), Mockstagram, and an actors host serving the collector.
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { type CollectorSettings, createCollectorActor } from "../../actors/collector.ts";
import type { AnyActor } from "../../actors/define.ts";
import type { CollectorTick } from "../../src/domain/influencers/messages.ts";
import { decodeEntry, ENTRY_FIELD, type StreamEntry } from "../../src/domain/influencers/stream.ts";
import { startTracking, type TrackResult } from "../../src/domain/influencers/tracking.ts";
import { type Mockstagram, startMockstagram } from "../../src/local/mockstagram/server.ts";
import { type QStashBroker, startQStash } from "../../src/local/qstash/broker.ts";
import { BrokerStore } from "../../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../../src/local/qstash/store/redis-link.ts";
import { type RedisRest, startRedisRest } from "../../src/local/redis-rest/index.ts";
import { createPublisher, type Publisher } from "../../src/publisher/index.ts";
import { QSTASH_TOKEN, startTestHost, type TestHost } from "../actors/support.ts";
import { REDIS_URL } from "./support.ts";

export interface CollectorStack {
  redis: Redis;
  bridge: RedisRest;
  broker: QStashBroker;
  mock: Mockstagram;
  host: TestHost;
  publisher: Publisher;
  settings: CollectorSettings;
  /** Registers influencers and publishes their first ticks, as POST /v1/influencers does. */
  track(tenantId: string, ids: readonly string[], intervalSeconds: number): Promise<TrackResult>;
  /** Every entry the collector appended for a tenant, in stream order. */
  entries(tenantId: string): Promise<StreamEntry[]>;
  /** Collector ticks waiting in the broker, per influencer of a tenant. */
  pendingTicks(tenantId: string): Promise<Map<string, CollectorTick[]>>;
  stop(): Promise<void>;
}

export async function startCollectorStack(
  options: { extraActors?: AnyActor[]; seed?: number } = {},
): Promise<CollectorStack> {
  const run = crypto.randomUUID().slice(0, 8);
  const token = `collector-${run}`;
  const brokerPrefix = `test-collector-${run}`;
  const bridge = await startRedisRest({ redisUrl: REDIS_URL, port: 0, token });
  const broker = await startQStash({ redisUrl: REDIS_URL, port: 0, keyPrefix: brokerPrefix, log: () => {} });
  const mock = startMockstagram({ port: 0, seed: options.seed ?? 3 });
  const settings: CollectorSettings = {
    providerUrl: mock.url,
    fetchTimeoutMs: 500,
    fetchAttempts: 3,
    stream: { key: `test:influencer-points:${run}`, maxLength: 100_000 },
    tickPrecisionMs: 1,
  };
  const host = startTestHost({
    actors: [createCollectorActor(settings), ...(options.extraActors ?? [])],
    qstashUrl: broker.url,
    redisRestUrl: bridge.url,
    redisRestToken: token,
  });
  const redis = new Redis({ url: bridge.url, token, retry: false });
  const publisher = createPublisher({
    client: new Client({ baseUrl: broker.url, token: QSTASH_TOKEN, retry: false }),
    actorsUrl: host.publicUrl,
  });
  const link = await RedisLink.open(REDIS_URL, `collector-test-${run}`);
  const store = new BrokerStore(link, brokerPrefix);

  return {
    redis,
    bridge,
    broker,
    mock,
    host,
    publisher,
    settings,
    track: (tenantId, ids, intervalSeconds) =>
      startTracking(
        redis,
        ({ body, ...options }) => publisher.publish({ actor: "collector", body, ...options }),
        {
          tenantId,
          influencerIds: ids,
          intervalSeconds,
          precisionMs: settings.tickPrecisionMs,
          now: Date.now(),
        },
      ),
    async entries(tenantId) {
      const raw = (await redis.exec(["XRANGE", settings.stream.key, "-", "+"])) as [string, unknown[]][];
      return raw.flatMap(([, fields]) => {
        const entry = decodeEntry(fields[fields.indexOf(ENTRY_FIELD) + 1]);
        return entry && entry.tenantId === tenantId ? [entry] : [];
      });
    },
    async pendingTicks(tenantId) {
      const messages = await store.getMessages(await store.liveMessageIds());
      const ticks = new Map<string, CollectorTick[]>();
      for (const message of messages) {
        if (!message.url.endsWith("/actors/collector")) continue;
        const tick = JSON.parse(new TextDecoder().decode(message.body)) as CollectorTick;
        if (tick.tenantId !== tenantId) continue;
        ticks.set(tick.influencerId, [...(ticks.get(tick.influencerId) ?? []), tick]);
      }
      return ticks;
    },
    async stop() {
      await host.close();
      await broker.stop();
      await mock.stop();
      await store.destroyAll();
      await link.close();
      await redis.del(settings.stream.key);
      await bridge.stop();
    },
  };
}

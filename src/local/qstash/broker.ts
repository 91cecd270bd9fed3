import { type QStashOptions, resolveOptions } from "./config.ts";
import { Dispatcher } from "./delivery/dispatcher.ts";
import { DeliverySigner } from "./delivery/signature.ts";
import type { BrokerContext } from "./http/context.ts";
import { createRouter } from "./http/router.ts";
import { BrokerStore } from "./store/broker-store.ts";
import { RedisLink, RedisSubscriber } from "./store/redis-link.ts";

export interface QStashBroker {
  /** Base URL for `new Client({ baseUrl })`, e.g. `http://127.0.0.1:8081`. */
  url: string;
  port: number;
  /** Stops accepting, lets attempts under way finish (briefly), closes Redis connections. */
  stop(): Promise<void>;
}

/**
 * Starts a QStash-compatible broker whose state lives in Redis: the official `@upstash/qstash` Client
 * publishes to it and its `Receiver` verifies what it delivers. Several brokers may share one Redis
 * (and key prefix); they split the work without delivering an attempt twice.
 *
 * @example
 * const broker = await startQStash({ redisUrl: "redis://127.0.0.1:6379", port: 0 });
 * const client = new Client({ baseUrl: broker.url, token: DEV_CREDENTIALS.token });
 */
export async function startQStash(options: QStashOptions): Promise<QStashBroker> {
  const config = resolveOptions(options);
  const brokerId = crypto.randomUUID();
  const redis = await RedisLink.open(config.redisUrl, "qstash-broker");
  const store = new BrokerStore(redis, config.keyPrefix);
  const dispatcher = new Dispatcher(store, new DeliverySigner(config.currentSigningKey), {
    maxInFlight: config.maxInFlight,
    leaseMs: config.leaseMs,
    sweepMs: config.sweepMs,
    timeScale: config.timeScale,
    defaultTimeoutMs: config.defaultTimeoutMs,
    log: config.log,
  });
  const subscriber = await RedisSubscriber.open(
    config.redisUrl,
    store.wakeChannel,
    (notice) => {
      // "<sender> <due at>": our own publishes already woke us.
      const [sender, dueAt] = notice.split(" ");
      if (sender !== brokerId) dispatcher.notifyDue(Number(dueAt));
    },
    () => dispatcher.kick(),
  );
  const context: BrokerContext = {
    store,
    dispatcher,
    brokerId,
    token: config.token,
    currentSigningKey: config.currentSigningKey,
    nextSigningKey: config.nextSigningKey,
    timeScale: config.timeScale,
    maxBodyBytes: config.maxBodyBytes,
    log: config.log,
  };
  const router = createRouter(context);
  const server = Bun.serve({
    port: config.port,
    hostname: config.hostname,
    maxRequestBodySize: config.maxBodyBytes * 4,
    fetch: (request, bunServer) => router(request, bunServer.requestIP(request)?.address),
  });
  dispatcher.start();

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${config.hostname}:${server.port}`,
    port: server.port as number,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await dispatcher.stop();
        await subscriber.close();
        await redis.close();
      })();
      return stopping;
    },
  };
}

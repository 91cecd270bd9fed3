import { type RespArg, RespConnection, RespError, type RespReply } from "../../resp/index.ts";

const RECONNECT_DELAYS_MS = [50, 200, 500, 1000, 2000];

interface Pending {
  args: readonly RespArg[];
  resolve(reply: RespReply): void;
  reject(error: Error): void;
}

/**
 * One shared, pipelined Redis connection that reconnects when Redis goes away, so a broker outlives a
 * Redis restart. Commands sent while it is down wait for the new connection; commands in flight when
 * it dropped fail (their callers retry on the next sweep).
 *
 * Commands issued during one event-loop turn (many HTTP requests and delivery answers land in the same
 * turn under load) go out as one pipeline, i.e. one socket write: the writes, not Redis, were the
 * broker's largest cost.
 */
export class RedisLink {
  private connection: Promise<RespConnection>;
  private stopped = false;
  private batch: Pending[] = [];
  private flushScheduled = false;
  private readonly flush = () => void this.flushBatch();

  private constructor(
    private readonly url: string,
    private readonly name: string,
    first: RespConnection,
  ) {
    this.connection = Promise.resolve(first);
    this.watch(first);
  }

  /** Connects once (failing fast when Redis is unreachable at start-up). */
  static async open(url: string, name: string): Promise<RedisLink> {
    return new RedisLink(url, name, await RespConnection.connect(url, { name, transport: "bun" }));
  }

  /** Runs one command; Redis error replies come back as `RespError` values. */
  send(args: readonly RespArg[]): Promise<RespReply> {
    return new Promise((resolve, reject) => {
      this.batch.push({ args, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Runs one command; a Redis error reply is thrown. */
  async call(args: readonly RespArg[]): Promise<RespReply> {
    const reply = await this.send(args);
    if (reply instanceof RespError) throw reply;
    return reply;
  }

  async pipeline(commands: readonly (readonly RespArg[])[]): Promise<RespReply[]> {
    return (await this.connection).pipeline(commands);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await (await this.connection.catch(() => undefined))?.close();
  }

  private async flushBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.flushScheduled = false;
    try {
      const replies = await (await this.connection).pipeline(batch.map((pending) => pending.args));
      for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve(replies[i] as RespReply);
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    }
  }

  private watch(connection: RespConnection): void {
    connection.closed.then(() => {
      if (this.stopped) return;
      this.connection = this.reconnect();
      this.connection.catch(() => undefined);
    });
  }

  private async reconnect(): Promise<RespConnection> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error("Redis link closed");
      await Bun.sleep(RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)] as number);
      try {
        const connection = await RespConnection.connect(this.url, { name: this.name, transport: "bun" });
        this.watch(connection);
        return connection;
      } catch {
        // Redis still away: try again after a longer pause.
      }
    }
  }
}

/**
 * A dedicated SUBSCRIBE connection that resubscribes after a reconnect and calls `onMessage` with each
 * payload published on `channel`.
 */
export class RedisSubscriber {
  private connection: RespConnection | undefined;
  private stopped = false;

  private constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onMessage: (payload: string) => void,
    private readonly onReconnect: () => void,
  ) {}

  static async open(
    url: string,
    channel: string,
    onMessage: (payload: string) => void,
    onReconnect: () => void,
  ): Promise<RedisSubscriber> {
    const subscriber = new RedisSubscriber(url, channel, onMessage, onReconnect);
    await subscriber.connect();
    return subscriber;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.connection?.close();
  }

  private async connect(): Promise<void> {
    const connection = await RespConnection.connect(this.url, { name: "qstash-broker-wake" });
    connection.onPush((reply) => {
      if (!Array.isArray(reply) || String(reply[0]) !== "message") return;
      this.onMessage(String(reply[2]));
    });
    connection.sendNoReply(["SUBSCRIBE", this.channel]);
    this.connection = connection;
    connection.closed.then(() => {
      if (!this.stopped) void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      await Bun.sleep(RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)] as number);
      try {
        await this.connect();
        // Notices published while away are lost: look for due work at once.
        this.onReconnect();
        return;
      } catch {
        // Redis still away.
      }
    }
  }
}

import { RespConnection, RespPool } from "../resp/index.ts";

/**
 * The bridge's connections to redis-server: one shared pipelined connection for ordinary commands
 * (reopened on demand if Redis restarts), and a pool of dedicated ones for transactions and
 * blocking commands.
 */
export class RedisLinks {
  readonly dedicated: RespPool;
  private shared: RespConnection | undefined;
  private connecting: Promise<RespConnection> | undefined;

  constructor(private readonly redisUrl: string) {
    this.dedicated = new RespPool(redisUrl, { max: 512, maxIdle: 16, name: "fairway-redis-rest:dedicated" });
  }

  /** The shared connection; callers must only send commands that leave its state untouched. */
  sharedConnection(): RespConnection | Promise<RespConnection> {
    if (this.shared?.isOpen) return this.shared;
    this.connecting ??= RespConnection.connect(this.redisUrl, { name: "fairway-redis-rest:shared" }).then(
      (connection) => {
        this.shared = connection;
        this.connecting = undefined;
        return connection;
      },
      (error: unknown) => {
        this.connecting = undefined;
        throw error;
      },
    );
    return this.connecting;
  }

  /** A fresh connection of its own, e.g. for a subscription; the caller closes it. */
  open(name: string): Promise<RespConnection> {
    return RespConnection.connect(this.redisUrl, { name });
  }

  async close(): Promise<void> {
    await Promise.all([this.shared?.close(), this.dedicated.close()]);
  }
}

import { RespConnection, type RespConnectOptions } from "./connection.ts";

export interface RespPoolOptions extends RespConnectOptions {
  /** Most connections open at once (idle + checked out); further checkouts wait. */
  max?: number;
  /** Most idle connections kept for reuse; extra ones are closed on release. */
  maxIdle?: number;
}

/**
 * Dedicated connections for work that holds a connection's state: MULTI/EXEC, blocking pops,
 * XREAD BLOCK. Check one out, use it alone, give it back (or destroy it when its state is unknown,
 * e.g. a blocking command whose caller went away).
 *
 * @example
 * const result = await pool.use((redis) => redis.call(["BLPOP", "jobs", "5"]));
 */
export class RespPool {
  private readonly idle: RespConnection[] = [];
  private readonly waiting: { resolve(c: RespConnection): void; reject(e: Error): void }[] = [];
  /** Open connections this pool accounts for; a closing one leaves at once, not when its socket ends. */
  private readonly tracked = new Set<RespConnection>();
  private closed = false;
  private connecting = 0;
  private readonly max: number;
  private readonly maxIdle: number;

  constructor(
    private readonly url: string,
    private readonly options: RespPoolOptions = {},
  ) {
    this.max = options.max ?? 64;
    this.maxIdle = options.maxIdle ?? 8;
  }

  /** Connections currently open (idle and checked out). */
  get size(): number {
    return this.tracked.size;
  }

  async acquire(): Promise<RespConnection> {
    if (this.closed) throw new Error("RespPool is closed");
    while (this.idle.length > 0) {
      const connection = this.idle.pop() as RespConnection;
      if (connection.isOpen) return connection;
    }
    if (this.tracked.size + this.connecting >= this.max) {
      return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    this.connecting++;
    try {
      const connection = await RespConnection.connect(this.url, this.options);
      this.tracked.add(connection);
      connection.closed.then(() => this.forget(connection));
      return connection;
    } catch (error) {
      this.wakeOne();
      throw error;
    } finally {
      this.connecting--;
    }
  }

  /** Returns a connection in a clean state (no transaction, not blocked, not subscribed). */
  release(connection: RespConnection): void {
    if (!connection.isOpen) return;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter.resolve(connection);
      return;
    }
    if (this.closed || this.idle.length >= this.maxIdle) {
      this.destroy(connection);
      return;
    }
    this.idle.push(connection);
  }

  /** Closes a connection whose state cannot be trusted any more; it is not reused. */
  destroy(connection: RespConnection): void {
    this.forget(connection);
    connection.close();
  }

  /** Runs `work` on a dedicated connection, released afterwards (destroyed if `work` throws). */
  async use<T>(work: (connection: RespConnection) => Promise<T>): Promise<T> {
    const connection = await this.acquire();
    try {
      const result = await work(connection);
      this.release(connection);
      return result;
    } catch (error) {
      this.destroy(connection);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error("RespPool is closed"));
    await Promise.all(this.idle.splice(0).map((connection) => connection.close()));
  }

  /** Stops accounting for a connection (closed, or about to be); safe to call twice. */
  private forget(connection: RespConnection): void {
    if (!this.tracked.delete(connection)) return;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    this.wakeOne();
  }

  /** A slot freed up: open a connection for the longest waiter. */
  private wakeOne(): void {
    if (this.closed || this.waiting.length === 0 || this.tracked.size + this.connecting >= this.max) return;
    const waiter = this.waiting.shift();
    if (waiter === undefined) return;
    this.acquire().then(waiter.resolve, waiter.reject);
  }
}

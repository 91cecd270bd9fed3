import { encodeCommand } from "./encoder.ts";
import { Fifo } from "./fifo.ts";
import { RespParser } from "./parser.ts";
import { type RespArg, RespError, type RespReply } from "./reply.ts";
import { openTransport, type Transport, type TransportKind } from "./transport.ts";
import { handshakeCommands, parseRedisUrl } from "./url.ts";

export interface RespConnectOptions {
  /** Sent as `CLIENT SETNAME`, so the connection can be found in `CLIENT LIST`. */
  name?: string;
  /** Socket implementation: node:net (default; measured as fast as Bun.connect here, with backpressure built in) or Bun.connect. */
  transport?: TransportKind;
}

/** Callers waiting for replies, in the order their commands were written. */
interface Waiter {
  /** Replies still expected (1 for `send`, n for a pipeline of n). */
  remaining: number;
  replies: RespReply[] | undefined;
  resolve(value: never): void;
  reject(error: Error): void;
}

/**
 * One RESP2 connection to redis-server. Any number of callers may use it at once: commands
 * are written in call order (writes made in the same tick are coalesced into one socket
 * write) and replies are matched first-in first-out.
 *
 * @example
 * const redis = await RespConnection.connect("redis://127.0.0.1:6379");
 * await redis.call(["SET", "k", "v"]);
 * (await redis.callString(["GET", "k"])) === "v";
 */
export class RespConnection {
  /** Settles when the connection is gone, with the reason (undefined after `close()`). */
  readonly closed: Promise<Error | undefined>;
  private resolveClosed!: (reason: Error | undefined) => void;
  private transport!: Transport;
  private readonly parser = new RespParser((reply) => this.onReply(reply));
  private readonly waiters = new Fifo<Waiter>();
  private outText = "";
  private outParts: Buffer[] | undefined;
  private flushScheduled = false;
  private closeReason: Error | undefined;
  private isClosed = false;
  private pushHandler: ((reply: RespReply) => void) | undefined;
  private readonly flush = () => this.flushNow();

  private constructor(readonly address: string) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Connects to `redis://[user:pass@]host:port[/db]`, then runs AUTH and SELECT as the URL asks. */
  static async connect(url: string, options: RespConnectOptions = {}): Promise<RespConnection> {
    const target = parseRedisUrl(url);
    const connection = new RespConnection(`${target.host}:${target.port}`);
    try {
      connection.transport = await openTransport(options.transport ?? "node", target.host, target.port, {
        onData: (chunk) => connection.receive(chunk),
        onClose: (error) => connection.onTransportClosed(error),
      });
    } catch (error) {
      throw new Error(`Cannot connect to Redis at ${connection.address}: ${(error as Error).message}`);
    }
    const setup = handshakeCommands(target);
    if (options.name !== undefined) setup.push(["CLIENT", "SETNAME", options.name]);
    if (setup.length > 0) {
      const replies = await connection.pipeline(setup);
      const failed = replies.find((reply) => reply instanceof RespError);
      if (failed !== undefined) {
        connection.close();
        throw failed;
      }
    }
    return connection;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Runs one command. Redis error replies resolve as `RespError` values; only connection failures reject. */
  send(args: readonly RespArg[]): Promise<RespReply> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) {
        reject(this.closedError());
        return;
      }
      this.waiters.push({ remaining: 1, replies: undefined, resolve, reject });
      this.enqueue(encodeCommand(args));
    });
  }

  /** Like `send`, but a Redis error reply is thrown as `RespError`. */
  async call(args: readonly RespArg[]): Promise<RespReply> {
    const reply = await this.send(args);
    if (reply instanceof RespError) throw reply;
    return reply;
  }

  /** A string (or nil) reply decoded as UTF-8. */
  async callString(args: readonly RespArg[]): Promise<string | null> {
    const reply = await this.call(args);
    if (reply === null) return null;
    if (Buffer.isBuffer(reply)) return reply.toString();
    if (typeof reply === "number" || typeof reply === "bigint") return String(reply);
    throw new TypeError(`Expected a string reply to ${String(args[0])}, got an array`);
  }

  /** An integer reply (or a numeric string such as INCRBYFLOAT's) as a number. */
  async callNumber(args: readonly RespArg[]): Promise<number> {
    const reply = await this.call(args);
    if (typeof reply === "number") return reply;
    if (Buffer.isBuffer(reply) || typeof reply === "bigint") return Number(String(reply));
    throw new TypeError(
      `Expected a number reply to ${String(args[0])}, got ${reply === null ? "nil" : "an array"}`,
    );
  }

  /** Writes all commands in one write; replies come back in order, error replies as values. */
  pipeline(commands: readonly (readonly RespArg[])[]): Promise<RespReply[]> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) {
        reject(this.closedError());
        return;
      }
      if (commands.length === 0) {
        resolve([]);
        return;
      }
      this.waiters.push({ remaining: commands.length, replies: [], resolve, reject });
      for (const command of commands) this.enqueue(encodeCommand(command));
    });
  }

  /**
   * Routes replies nobody waits for (pub/sub messages) to `handler`.
   * Use with `sendNoReply` on a connection dedicated to SUBSCRIBE / PSUBSCRIBE.
   */
  onPush(handler: (reply: RespReply) => void): void {
    this.pushHandler = handler;
  }

  /** Writes a command whose replies go to the push handler (SUBSCRIBE and friends). */
  sendNoReply(args: readonly RespArg[]): void {
    if (this.isClosed) throw this.closedError();
    this.enqueue(encodeCommand(args));
  }

  /** Closes the socket; commands still waiting are rejected. */
  close(): Promise<Error | undefined> {
    if (!this.isClosed) {
      this.flushNow();
      this.transport.close();
    }
    return this.closed;
  }

  private enqueue(encoded: string | Buffer): void {
    if (typeof encoded === "string") {
      this.outText += encoded;
    } else {
      this.outParts ??= [];
      if (this.outText !== "") {
        this.outParts.push(Buffer.from(this.outText));
        this.outText = "";
      }
      this.outParts.push(encoded);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private flushNow(): void {
    this.flushScheduled = false;
    if (this.isClosed) return;
    if (this.outParts !== undefined) {
      if (this.outText !== "") this.outParts.push(Buffer.from(this.outText));
      const parts = this.outParts;
      this.outParts = undefined;
      this.outText = "";
      this.transport.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } else if (this.outText !== "") {
      const text = this.outText;
      this.outText = "";
      this.transport.write(text);
    }
  }

  private receive(chunk: Buffer): void {
    try {
      this.parser.feed(chunk);
    } catch (error) {
      // A protocol error leaves the stream unreadable: fail everything waiting on it.
      this.closeReason ??= error as Error;
      this.transport.close();
    }
  }

  private onReply(reply: RespReply): void {
    const waiter = this.waiters.peek();
    if (waiter === undefined) {
      if (this.pushHandler !== undefined) {
        this.pushHandler(reply);
        return;
      }
      this.closeReason = new Error(`Redis at ${this.address} sent a reply nobody asked for`);
      this.transport.close();
      return;
    }
    if (waiter.replies === undefined) {
      this.waiters.shift();
      waiter.resolve(reply as never);
      return;
    }
    waiter.replies.push(reply);
    if (--waiter.remaining === 0) {
      this.waiters.shift();
      waiter.resolve(waiter.replies as never);
    }
  }

  private onTransportClosed(error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason ??= error;
    this.parser.reset();
    const failure = this.closedError();
    for (const waiter of this.waiters.drain()) waiter.reject(failure);
    this.resolveClosed(this.closeReason);
  }

  private closedError(): Error {
    const why = this.closeReason === undefined ? "" : `: ${this.closeReason.message}`;
    return new Error(`Redis connection to ${this.address} closed${why}`);
  }
}

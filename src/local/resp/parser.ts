import { RespError, type RespReply } from "./reply.ts";

const INCOMPLETE = Symbol("incomplete");
type Parsed = RespReply | typeof INCOMPLETE;

const CR = 13;
const EMPTY = Buffer.alloc(0);

/**
 * Streaming RESP2 decoder: feed it socket chunks, it calls `onReply` once per complete reply.
 *
 * Strings are zero-copy views (`subarray`) of the received chunk. When a reply is cut
 * between chunks it is parsed again from its start once more data arrived; for a large
 * bulk string the decoder first waits until enough bytes are buffered, so a 1 MB value
 * costs one concatenation, not one per chunk.
 */
export class RespParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Start of the reply being parsed, to compute how many bytes it still needs. */
  private replyStart = 0;
  /** Bytes (from replyStart) known to be needed before a retry can succeed; 0 = unknown. */
  private needed = 0;
  private waiting: Buffer[] = [];
  private waitingBytes = 0;

  constructor(private readonly onReply: (reply: RespReply) => void) {}

  feed(chunk: Buffer): void {
    if (this.waiting.length > 0) {
      this.waiting.push(chunk);
      this.waitingBytes += chunk.length;
      if (this.waitingBytes < this.needed) return;
      this.buf = Buffer.concat(this.waiting, this.waitingBytes);
      this.waiting = [];
      this.waitingBytes = 0;
    } else if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    this.needed = 0;
    const buf = this.buf;
    while (this.pos < buf.length) {
      this.replyStart = this.pos;
      const reply = this.parseValue();
      if (reply === INCOMPLETE) {
        this.pos = this.replyStart;
        break;
      }
      this.onReply(reply);
    }
    if (this.pos >= buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    } else if (this.needed > buf.length - this.pos) {
      const rest = buf.subarray(this.pos);
      this.waiting = [rest];
      this.waitingBytes = rest.length;
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** Drops buffered bytes, e.g. after the connection closed. */
  reset(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.waiting = [];
    this.waitingBytes = 0;
    this.needed = 0;
  }

  private parseValue(): Parsed {
    const buf = this.buf;
    const start = this.pos;
    if (start >= buf.length) return INCOMPLETE;
    const type = buf[start];
    switch (type) {
      case 0x2b /* + */:
        {
          const end = buf.indexOf(CR, start + 1);
          if (end < 0 || end + 1 >= buf.length) return INCOMPLETE;
          this.pos = end + 2;
          return buf.subarray(start + 1, end);
        }
      case 0x2d /* - */:
        {
          const end = buf.indexOf(CR, start + 1);
          if (end < 0 || end + 1 >= buf.length) return INCOMPLETE;
          this.pos = end + 2;
          return new RespError(buf.toString("utf8", start + 1, end));
        }
      case 0x3a /* : */:
        return this.parseInteger(start + 1, true);
      case 0x24 /* $ */:
        {
          const length = this.parseInteger(start + 1, false);
          if (length === INCOMPLETE) return INCOMPLETE;
          if (length === -1) return null;
          const from = this.pos;
          const to = from + (length as number);
          if (to + 2 > buf.length) {
            this.needed = to + 2 - this.replyStart;
            return INCOMPLETE;
          }
          this.pos = to + 2;
          return buf.subarray(from, to);
        }
      case 0x2a /* * */:
        {
          const count = this.parseInteger(start + 1, false);
          if (count === INCOMPLETE) return INCOMPLETE;
          if (count === -1) return null;
          const items: RespReply[] = new Array(count as number);
          for (let i = 0; i < (count as number); i++) {
            const item = this.parseValue();
            if (item === INCOMPLETE) return INCOMPLETE;
            items[i] = item;
          }
          return items;
        }
      default:
        throw new Error(`RESP protocol error: unexpected byte 0x${(type ?? 0).toString(16)} at reply start`);
    }
  }

  /** Reads a signed decimal up to CRLF starting at `from`; advances past the CRLF. */
  private parseInteger(from: number, allowBig: boolean): number | bigint | typeof INCOMPLETE {
    const buf = this.buf;
    const length = buf.length;
    let i = from;
    let negative = false;
    if (buf[i] === 0x2d) {
      negative = true;
      i++;
    }
    let value = 0;
    const digitsStart = i;
    while (i < length) {
      const c = buf[i] as number;
      if (c === CR) break;
      value = value * 10 + (c - 48);
      i++;
    }
    if (i + 1 >= length) return INCOMPLETE;
    this.pos = i + 2;
    // Up to 15 digits always fit in a double exactly; beyond that check and keep exactness.
    if (allowBig && i - digitsStart > 15 && !Number.isSafeInteger(value)) {
      return BigInt(buf.toString("latin1", from, i));
    }
    return negative ? -value : value;
  }
}

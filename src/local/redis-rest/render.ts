import { RespError, type RespReply } from "../resp/index.ts";

/**
 * Renders a RESP2 reply as the JSON text Upstash clients expect.
 * With `base64`, every string at every depth is base64 (`OK` included); integers stay JSON numbers
 * (digits kept exact, even beyond 2^53), nil is `null`. Error texts are never encoded.
 */
export function renderReply(reply: RespReply, base64: boolean): string {
  if (reply === null) return "null";
  switch (typeof reply) {
    case "number":
      return String(reply);
    case "bigint":
      return reply.toString();
  }
  if (reply instanceof Uint8Array) {
    // Base64 text never needs JSON escaping.
    return base64 ? `"${reply.toString("base64")}"` : JSON.stringify(reply.toString());
  }
  if (Array.isArray(reply)) {
    if (reply.length === 0) return "[]";
    let out = `[${renderReply(reply[0] as RespReply, base64)}`;
    for (let i = 1; i < reply.length; i++) out += `,${renderReply(reply[i] as RespReply, base64)}`;
    return `${out}]`;
  }
  // An error nested in an array (e.g. a Lua script returning one): its text, never encoded.
  return JSON.stringify((reply as RespError).message);
}

/** One pipeline / transaction entry: `{"result": …}` or `{"error": "…"}` (no `result` key). */
export function renderEntry(reply: RespReply, base64: boolean): string {
  return reply instanceof RespError
    ? `{"error":${JSON.stringify(reply.message)}}`
    : `{"result":${renderReply(reply, base64)}}`;
}

export function renderEntries(replies: readonly RespReply[], base64: boolean): string {
  if (replies.length === 0) return "[]";
  let out = `[${renderEntry(replies[0] as RespReply, base64)}`;
  for (let i = 1; i < replies.length; i++) out += `,${renderEntry(replies[i] as RespReply, base64)}`;
  return `${out}]`;
}

export function renderError(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}

/** The body of a single command's answer, `{"result": …}`: UTF-8 bytes unless base64 was asked for. */
export function resultBody(reply: RespReply, base64: boolean): string | Uint8Array {
  if (base64) return `{"result":${renderReply(reply, base64)}}`;
  const out = JsonBytes.start();
  out.ascii('{"result":');
  out.reply(reply);
  out.ascii("}");
  return out.finish();
}

/** The body of a pipeline / transaction answer (`renderEntries`): UTF-8 bytes unless base64 was asked for. */
export function entriesBody(replies: readonly RespReply[], base64: boolean): string | Uint8Array {
  if (base64) return renderEntries(replies, base64);
  const out = JsonBytes.start();
  out.ascii("[");
  for (let i = 0; i < replies.length; i++) {
    if (i > 0) out.ascii(",");
    const reply = replies[i] as RespReply;
    if (reply instanceof RespError) {
      out.ascii('{"error":');
      out.text(JSON.stringify(reply.message));
    } else {
      out.ascii('{"result":');
      out.reply(reply);
    }
    out.ascii("}");
  }
  out.ascii("]");
  return out.finish();
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";
/** The scratch buffer is kept between answers up to this size; a larger one is dropped after use. */
const KEPT_SCRATCH_BYTES = 1 << 20;

/**
 * Writes the same JSON as `renderReply(reply, false)`, as UTF-8 bytes, copying each bulk string's bytes
 * straight from the reply instead of decoding it to a string and escaping that: a pipeline answer holds
 * many short strings (a hash's fields), and each decode and escape cost more than the bytes themselves.
 * Strings with bytes past ASCII go through the decoder, so malformed UTF-8 becomes U+FFFD exactly as before.
 */
class JsonBytes {
  private static scratch = new Uint8Array(16 * 1024);
  private static readonly writer = new JsonBytes();
  private buf = JsonBytes.scratch;
  private n = 0;

  /** The one writer, emptied; rendering is synchronous, so answers never share it at once. */
  static start(): JsonBytes {
    const writer = JsonBytes.writer;
    writer.buf = JsonBytes.scratch;
    writer.n = 0;
    return writer;
  }

  /** The bytes written, in a buffer of their own. */
  finish(): Uint8Array {
    const bytes = this.buf.slice(0, this.n);
    JsonBytes.scratch = this.buf.length <= KEPT_SCRATCH_BYTES ? this.buf : new Uint8Array(16 * 1024);
    this.buf = JsonBytes.scratch;
    return bytes;
  }

  /** Text known to be ASCII. */
  ascii(text: string): void {
    this.room(text.length);
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < text.length; i++) buf[n++] = text.charCodeAt(i);
    this.n = n;
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    const bytes = Buffer.from(text);
    this.room(bytes.length);
    this.buf.set(bytes, this.n);
    this.n += bytes.length;
  }

  reply(reply: RespReply): void {
    if (reply === null) {
      this.ascii("null");
    } else if (typeof reply === "number" || typeof reply === "bigint") {
      this.ascii(String(reply));
    } else if (reply instanceof Uint8Array) {
      const at = this.n;
      if (!this.plainString(reply)) {
        this.n = at;
        this.text(JSON.stringify(reply.toString()));
      }
    } else if (Array.isArray(reply)) {
      this.ascii("[");
      for (let i = 0; i < reply.length; i++) {
        if (i > 0) this.ascii(",");
        this.reply(reply[i] as RespReply);
      }
      this.ascii("]");
    } else {
      this.text(JSON.stringify((reply as RespError).message));
    }
  }

  /** An ASCII string as a JSON string, escaped as JSON.stringify does; false at the first byte past ASCII. */
  private plainString(src: Uint8Array): boolean {
    const length = src.length;
    this.room(length + 2);
    let buf = this.buf;
    let n = this.n;
    buf[n++] = QUOTE;
    for (let i = 0; i < length; i++) {
      const c = src[i] as number;
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        if (c >= 0x80) return false;
        buf[n++] = c;
        continue;
      }
      // An escape takes up to 6 bytes where the byte took 1.
      this.n = n;
      this.room(length - i + 6);
      buf = this.buf;
      buf[n++] = BACKSLASH;
      switch (c) {
        case QUOTE:
        case BACKSLASH:
          buf[n++] = c;
          break;
        case 0x08:
          buf[n++] = 0x62; // b
          break;
        case 0x09:
          buf[n++] = 0x74; // t
          break;
        case 0x0a:
          buf[n++] = 0x6e; // n
          break;
        case 0x0c:
          buf[n++] = 0x66; // f
          break;
        case 0x0d:
          buf[n++] = 0x72; // r
          break;
        default:
          buf[n++] = 0x75; // u00XX
          buf[n++] = 0x30;
          buf[n++] = 0x30;
          buf[n++] = HEX.charCodeAt(c >> 4);
          buf[n++] = HEX.charCodeAt(c & 15);
      }
    }
    buf[n++] = QUOTE;
    this.n = n;
    return true;
  }

  /** Makes room for `bytes` more after what is written. */
  private room(bytes: number): void {
    const needed = this.n + bytes;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.n));
    this.buf = grown;
  }
}

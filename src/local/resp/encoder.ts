import type { RespArg } from "./reply.ts";

const CRLF = "\r\n";

/**
 * Encodes one command as a RESP2 array of bulk strings.
 * Returns a string when every argument is text (the common case, cheapest to write),
 * else a Buffer so binary arguments survive untouched.
 */
export function encodeCommand(args: readonly RespArg[]): string | Buffer {
  let out = `*${args.length}${CRLF}`;
  let binary: Buffer[] | undefined;
  for (const arg of args) {
    if (typeof arg === "string") {
      out += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`;
    } else if (typeof arg === "number") {
      const text = String(arg);
      out += `$${text.length}${CRLF}${text}${CRLF}`;
    } else {
      binary ??= [];
      binary.push(Buffer.from(`${out}$${arg.byteLength}${CRLF}`), toBuffer(arg));
      out = CRLF;
    }
  }
  if (binary === undefined) return out;
  binary.push(Buffer.from(out));
  return Buffer.concat(binary);
}

function toBuffer(bytes: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

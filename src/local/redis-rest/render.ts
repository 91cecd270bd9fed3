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

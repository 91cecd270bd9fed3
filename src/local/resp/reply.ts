/**
 * A Redis error reply (`-ERR …`, `-WRONGTYPE …`). `message` is the exact text Redis sent,
 * so it can be passed on verbatim (the REST bridge relies on that).
 */
export class RespError extends Error {
  override name = "RespError";
}

/**
 * One decoded RESP2 reply.
 * - simple and bulk strings: `Buffer` (binary-safe; decode with `.toString()`)
 * - integers: `number`, or `bigint` when the value lies outside ±2^53 (kept exact)
 * - nil bulk string / nil array: `null`
 * - error replies: `RespError` values (never thrown by `send` / `pipeline`)
 * - arrays: `RespReply[]`
 */
export type RespReply = null | number | bigint | Buffer | RespError | RespReply[];

/** One argument of a command; numbers are sent in their decimal `String()` form. */
export type RespArg = string | number | Buffer | Uint8Array;

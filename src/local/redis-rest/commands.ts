/**
 * What the bridge accepts as a command, and where each command may run.
 *
 * Most commands go to one shared, pipelined connection. Commands that block go to a dedicated
 * pooled connection. Commands that would change the shared connection's state (or leave the
 * request/reply rhythm the bridge relies on) are refused with a 400 naming them.
 */

/** One command, arguments already converted to strings. */
export type Command = string[];

export type Placement = "shared" | "blocking";

/** Thrown for a request the bridge refuses; rendered as `400 {"error": message}`. */
export class BadRequest extends Error {
  override name = "BadRequest";
}

const BLOCKING = new Set([
  "BLPOP",
  "BRPOP",
  "BLMOVE",
  "BRPOPLPUSH",
  "BZPOPMIN",
  "BZPOPMAX",
  "BLMPOP",
  "BZMPOP",
]);
const WAITING = new Set(["WAIT", "WAITAOF"]);
const STREAM_READS = new Set(["XREAD", "XREADGROUP"]);

const PUBSUB = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
]);
const TRANSACTION = new Set(["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"]);
const CONNECTION_STATE: Record<string, string> = {
  SELECT: "the bridge serves one database; put the database in the bridge's REDIS_URL",
  AUTH: "the bridge authenticates with its bearer token; Redis credentials belong in REDIS_URL",
  HELLO: "the bridge speaks RESP2 to Redis",
  RESET: "it would reset the bridge's shared connection",
  QUIT: "it would close the bridge's shared connection",
  MONITOR: "it streams without end",
  SYNC: "replication is not available over REST",
  PSYNC: "replication is not available over REST",
  REPLCONF: "replication is not available over REST",
  READONLY: "cluster connection modes are not available over REST",
  READWRITE: "cluster connection modes are not available over REST",
  SHUTDOWN: "the bridge does not stop the Redis server it fronts",
};
/** CLIENT subcommands that change the calling connection's state. */
const CLIENT_STATE = new Set(["REPLY", "TRACKING", "CACHING", "SETNAME", "SETINFO", "NO-EVICT", "NO-TOUCH"]);

/**
 * Validates one JSON command and converts its arguments with `String()`.
 * `where` names its place in the body for error messages ("command", "command 3").
 */
export function toCommand(value: unknown, where: string): Command {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest(`ERR ${where} must be a non-empty JSON array such as ["get","key"]`);
  }
  const command = value as unknown[];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i];
    const kind = typeof arg;
    if (kind === "string") continue;
    if (kind === "number" || kind === "boolean" || arg === null) {
      command[i] = String(arg);
      continue;
    }
    throw new BadRequest(
      `ERR ${where}, argument ${i}: expected a string, number or boolean, got ${Array.isArray(arg) ? "an array" : kind}`,
    );
  }
  return command as Command;
}

/**
 * Command names, as sent, found to run on the shared connection whatever their arguments and wherever they
 * are sent: a pipeline's commands are mostly the same few, and each is then placed without upper-casing it.
 */
const ALWAYS_SHARED = new Set<string>();
const MAX_ALWAYS_SHARED = 512;

/**
 * Where `command` may run, or a BadRequest saying why the bridge refuses it.
 * `inTransaction`: inside /multi-exec, where blocking commands do not block (Redis runs them
 * as non-blocking inside MULTI) and the transaction commands themselves are the bridge's job.
 */
export function placementOf(command: Command, inTransaction = false): Placement {
  if (ALWAYS_SHARED.has(command[0] as string)) return "shared";
  const name = (command[0] as string).toUpperCase();
  if (BLOCKING.has(name) || WAITING.has(name)) return inTransaction ? "shared" : "blocking";
  if (STREAM_READS.has(name)) return !inTransaction && hasBlockOption(command) ? "blocking" : "shared";
  if (PUBSUB.has(name)) {
    throw new BadRequest(
      `ERR ${name} is not supported on this path: use POST /subscribe/<channel> or /psubscribe/<pattern> (server-sent events)`,
    );
  }
  if (TRANSACTION.has(name)) {
    throw new BadRequest(
      inTransaction
        ? `ERR ${name} is not allowed inside /multi-exec: the bridge wraps the commands in MULTI/EXEC itself`
        : `ERR ${name} is not supported on this path: send the transaction's commands to POST /multi-exec`,
    );
  }
  const reason = CONNECTION_STATE[name];
  if (reason !== undefined)
    throw new BadRequest(`ERR ${name} is not supported by the REST bridge: ${reason}`);
  if (name === "CLIENT") {
    const sub = String(command[1]).toUpperCase();
    if (CLIENT_STATE.has(sub)) {
      throw new BadRequest(
        `ERR CLIENT ${sub} is not supported by the REST bridge: it changes connection state`,
      );
    }
    return "shared";
  }
  if (ALWAYS_SHARED.size < MAX_ALWAYS_SHARED) ALWAYS_SHARED.add(command[0] as string);
  return "shared";
}

/** XREAD / XREADGROUP options come before the STREAMS keyword. */
function hasBlockOption(command: Command): boolean {
  for (let i = 1; i < command.length; i++) {
    const word = (command[i] as string).toUpperCase();
    if (word === "STREAMS") return false;
    if (word === "BLOCK") return true;
  }
  return false;
}

// Lua scripts as Fairway runs them: the text bundled with the code (Bun's text import), the SHA-1 written
// beside it, and one runner over @upstash/redis's Script (EVALSHA first, EVAL when Redis answers NOSCRIPT).
// A test loads every script with SCRIPT LOAD and checks the SHA written here, so an edited .lua file whose
// SHA was not updated fails the suite instead of silently falling back to EVAL on every call.
import type { Redis } from "@upstash/redis";

export interface LuaScript {
  /** File name without `.lua`, used in error messages. */
  readonly name: string;
  /** The script's own text (starts with its KEYS / ARGV / Returns header). */
  readonly body: string;
  /** What is sent to Redis: the shared library, then the body. */
  readonly source: string;
  /** SHA-1 of `source`, as SCRIPT LOAD answers it. */
  readonly sha: string;
}

/** A script whose source is `library` (if any) followed by `body`; `sha` is the expected SHA-1 of that. */
export function luaScript(name: string, body: string, sha: string, library?: string): LuaScript {
  return { name, body, source: library === undefined ? body : `${library}\n${body}`, sha };
}

type RedisScript = ReturnType<Redis["createScript"]>;
const loaded = new WeakMap<Redis, Map<string, RedisScript>>();

function scriptOn(redis: Redis, script: LuaScript): RedisScript {
  let byName = loaded.get(redis);
  if (!byName) {
    byName = new Map();
    loaded.set(redis, byName);
  }
  let prepared = byName.get(script.name);
  if (!prepared) {
    prepared = redis.createScript(script.source);
    byName.set(script.name, prepared);
  }
  return prepared;
}

/** Redis answered the script with an error (a bug in the script or its arguments, not an outage). */
export class LuaScriptError extends Error {
  constructor(
    readonly script: string,
    detail: string,
  ) {
    super(`${script}.lua: ${detail}`);
    this.name = "LuaScriptError";
  }
}

/**
 * Runs a script by EVALSHA (EVAL on NOSCRIPT). Every argument is sent as a string.
 *
 * @example const [code, expiry] = await runLua<[number, number]>(redis, scripts.acquire, [key], [limit, ttl, token]);
 */
export async function runLua<T>(
  redis: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<T> {
  try {
    return (await scriptOn(redis, script).exec([...keys], args.map(String))) as T;
  } catch (error) {
    // Only Redis's own answers are renamed; network failures keep their type, so callers can tell
    // "Redis unreachable" (worth a retry) from "script broken".
    if (error instanceof Error && error.name === "UpstashError")
      throw new LuaScriptError(script.name, error.message);
    throw error;
  }
}

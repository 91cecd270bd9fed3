// @upstash/ratelimit's scripts open with `#!lua flags=allow-key-locking`, a flag Upstash knows and Redis 7
// (the local stack's redis-server) refuses. Where Redis refuses a shebang flag, the script is run without it
// (Redis runs every script atomically anyway) and later EVALSHAs of the original SHA are sent with the SHA of
// the runnable text, so the script stays cached: one round trip per call, as on Upstash.
import type { Redis } from "@upstash/redis/cloudflare";

const UNKNOWN_FLAG = /Unexpected flag in script shebang/i;

/** SHA-1 of the original script → SHA-1 of the text Redis accepted. Pure function of the text, so global. */
const runnableShas = new Map<string, string>();

/** The SHA to send for a script known by `sha`. */
export function portableSha(sha: string): string {
  return runnableShas.get(sha) ?? sha;
}

/** EVAL, falling back to the script without its shebang flags when Redis refuses them. */
export async function portableEval(
  redis: Redis,
  script: string,
  keys: string[],
  args: unknown[],
): Promise<unknown> {
  try {
    return await redis.eval(script, keys, args);
  } catch (error) {
    if (!UNKNOWN_FLAG.test(String(error))) throw error;
    const runnable = withoutShebangFlags(script);
    const [original, accepted] = await Promise.all([sha1Hex(script), sha1Hex(runnable)]);
    runnableShas.set(original, accepted);
    return redis.eval(runnable, keys, args);
  }
}

/** `#!lua flags=a,b\n…` → `#!lua\n…`: a shebang script with the default flags. */
export function withoutShebangFlags(script: string): string {
  return script.replace(/^(\s*#!lua)[^\n]*/, "$1");
}

export async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Runs a Lua script through the Upstash client: EVALSHA, and EVAL when Redis does not know it yet (after a
// restart or SCRIPT FLUSH). The source lives in TypeScript strings, since Workers cannot read files.
import type { Redis } from "@upstash/redis";

/** The part of the client scripts need; the Workers and Node builds of `Redis` both fit. */
export type ScriptRedis = Pick<Redis, "evalsha" | "eval">;

export class LuaScript {
  private sha: Promise<string> | undefined;
  constructor(readonly source: string) {}

  async run<T>(redis: ScriptRedis, keyList: string[], args: readonly (string | number)[]): Promise<T> {
    this.sha ??= sha1Hex(this.source);
    const argv = args.map(String);
    try {
      return (await redis.evalsha(await this.sha, keyList, argv)) as T;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.toUpperCase().includes("NOSCRIPT")) throw error;
      return (await redis.eval(this.source, keyList, argv)) as T;
    }
  }
}

export async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

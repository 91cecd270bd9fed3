// Values read on every request that rarely change (a cache entry, a leaderboard snapshot): each isolate holds the
// decoded value per key, and later reads of the key ask Redis to send the text only when it differs from the
// one held (compared by SHA-1, inside Redis). A repeated read then moves a few bytes and decodes nothing, and a
// held value is used only when Redis confirms it is what the key holds now. Keys carry the tenant tag, so a
// held value is only ever reached through its own tenant's key.
import { sha1Hex } from "./portable-scripts.ts";
import type { RedisCommand } from "./redis-batch.ts";

/**
 * KEYS[1] a string key. ARGV[1] the SHA-1 (hex) of the text the caller holds.
 * Returns 1 when the key's text has that SHA-1, else the text (nil when there is none): a Redis without
 * redis.sha1hex answers like a GET. An isolate's first conditional read sends it as EVAL (which also caches it
 * in Redis), later ones as EVALSHA, each carrying the EVAL form for a Redis that answers NOSCRIPT (restarted,
 * or its scripts flushed): the script's text would otherwise travel, and be hashed by Redis, on every request.
 */
const READ_UNLESS_HELD_LUA = `local text = redis.call('GET', KEYS[1])
if text then
  local ok, sha = pcall(redis.sha1hex, text)
  if ok and sha == ARGV[1] then return 1 end
end
return text`;

/** The script's SHA-1 once computed and once this isolate has sent the script itself. */
const script: { sha?: string; sent: boolean } = { sent: false };
sha1Hex(READ_UNLESS_HELD_LUA).then(
  (sha) => {
    script.sha = sha;
  },
  () => {},
);

interface Held<T> {
  text: string;
  value: T;
  /** SHA-1 of the text; set once computed (until then the key is read in full). */
  sha?: string;
}

/** How one request reads a key, and what Redis's "the one you hold" refers to. */
export interface HeldRead<T> {
  key: string;
  command: RedisCommand;
  /** The same read with the script's text, for when Redis answers `command` with NOSCRIPT. */
  byScriptText?: RedisCommand;
  held?: Held<T>;
}

export interface HeldValuesOptions {
  /** Texts longer than this are decoded on every read rather than held. */
  maxChars: number;
  /** What all held texts may add up to, in characters; the oldest go first. */
  maxTotalChars: number;
}

export class HeldValues<T> {
  private readonly held = new Map<string, Held<T>>();
  private heldChars = 0;

  /** `decode` turns a key's text into its value; null for text that is not one (never held). */
  constructor(
    private readonly decode: (text: string) => T | null,
    private readonly options: HeldValuesOptions,
  ) {}

  /** The read for `key`: a plain GET, or a conditional one when a value for it is held here. */
  read(key: string): HeldRead<T> {
    const known = this.held.get(key);
    if (known?.sha === undefined) return { key, command: ["get", key] };
    const byScriptText: RedisCommand = ["eval", READ_UNLESS_HELD_LUA, 1, key, known.sha];
    if (script.sha === undefined || !script.sent) {
      script.sent = true;
      return { key, command: byScriptText, held: known };
    }
    return { key, command: ["evalsha", script.sha, 1, key, known.sha], byScriptText, held: known };
  }

  /** The value from the reply to `read`: the held one (reply 1), else the text Redis returned, decoded. */
  valueFrom(read: HeldRead<T>, reply: unknown): T | null {
    if (reply === 1 && read.held !== undefined) return read.held.value;
    if (typeof reply !== "string") return null;
    const known = this.held.get(read.key);
    if (known !== undefined && known.text === reply) return known.value;
    const value = this.decode(reply);
    if (known !== undefined) this.forget(read.key, known);
    if (value !== null && reply.length <= this.options.maxChars) this.hold(read.key, reply, value);
    return value;
  }

  private hold(key: string, text: string, value: T): void {
    const item: Held<T> = { text, value };
    this.held.set(key, item);
    this.heldChars += text.length;
    // Oldest first: a Map iterates in insertion order.
    for (const [oldKey, old] of this.held) {
      if (this.heldChars <= this.options.maxTotalChars) break;
      this.forget(oldKey, old);
    }
    sha1Hex(text).then(
      (sha) => {
        item.sha = sha;
      },
      () => {},
    );
  }

  private forget(key: string, item: Held<T>): void {
    if (this.held.get(key) !== item) return;
    this.held.delete(key);
    this.heldChars -= item.text.length;
  }
}

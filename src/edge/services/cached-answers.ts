// Cache hits answered without moving, decoding and re-encoding the same rows on every request. An entry's text
// is parsed once per isolate and its rows rendered to JSON once; later reads of its key ask Redis to send the
// text only when it differs from the one held here (compared by SHA-1, inside Redis), so a repeated hit moves a
// few bytes instead of the whole entry. Held entries are keyed by the full Redis key (tenant tag included) and
// only ever served when Redis confirms they are what the key holds now.
import type { CachedResult } from "../../domain/query-jobs.ts";
import { sha1Hex } from "./portable-scripts.ts";
import { cachedResultFrom } from "./query-results.ts";
import type { RedisCommand } from "./redis-batch.ts";

export type CacheOutcome = "hit" | "miss" | "stale";

/**
 * KEYS[1] a cache entry. ARGV[1] the SHA-1 (hex) of the entry text the caller holds.
 * Returns 1 when the entry's text has that SHA-1, else the text (nil when there is no entry): a Redis without
 * redis.sha1hex answers like a GET. Sent as EVAL, not EVALSHA: Redis caches it by its own SHA-1, and a
 * restarted Redis cannot answer NOSCRIPT.
 */
const READ_UNLESS_HELD_LUA = `local entry = redis.call('GET', KEYS[1])
if entry then
  local ok, sha = pcall(redis.sha1hex, entry)
  if ok and sha == ARGV[1] then return 1 end
end
return entry`;

/** Entries larger than this are parsed on every read rather than held. */
const MAX_HELD_CHARS = 256 * 1024;
/** What all held entries may hold together, in characters of their text. */
const MAX_TOTAL_CHARS = 8 * 1024 * 1024;

interface Held {
  text: string;
  entry: CachedResult;
  /** SHA-1 of the text; set once computed (until then the key is read in full). */
  sha?: string;
}

const held = new Map<string, Held>();
let heldChars = 0;

/** How a request reads a cache entry, and what the reply refers to when Redis answers "the one you hold". */
export interface EntryRead {
  key: string;
  command: RedisCommand;
  held?: Held;
}

/** The read for `key`: a plain GET, or a conditional one when an entry for it is held here. */
export function entryRead(key: string): EntryRead {
  const known = held.get(key);
  if (known?.sha === undefined) return { key, command: ["get", key] };
  return { key, command: ["eval", READ_UNLESS_HELD_LUA, 1, key, known.sha], held: known };
}

/** The entry from the reply to `read`: the held one (reply 1), else the text Redis returned, parsed. */
export function entryFrom(read: EntryRead, reply: unknown): CachedResult | null {
  if (reply === 1 && read.held !== undefined) return read.held.entry;
  if (typeof reply !== "string") return cachedResultFrom(reply);
  const known = held.get(read.key);
  if (known !== undefined && known.text === reply) return known.entry;
  const entry = cachedResultFrom(reply);
  if (known !== undefined) forget(read.key, known);
  if (entry !== null && reply.length <= MAX_HELD_CHARS) hold(read.key, reply, entry);
  return entry;
}

function hold(key: string, text: string, entry: CachedResult): void {
  const item: Held = { text, entry };
  held.set(key, item);
  heldChars += text.length;
  // Oldest first: a Map iterates in insertion order.
  for (const [oldKey, old] of held) {
    if (heldChars <= MAX_TOTAL_CHARS) break;
    forget(oldKey, old);
  }
  sha1Hex(text).then(
    (sha) => {
      item.sha = sha;
    },
    () => {},
  );
}

function forget(key: string, item: Held): void {
  if (held.get(key) !== item) return;
  held.delete(key);
  heldChars -= item.text.length;
}

/** The 200 body of a query answer (see `resultJson`), as an object. */
export function resultBody(entry: CachedResult, cache: CacheOutcome) {
  return { data: entry.data, meta: resultMeta(entry, cache) };
}

const renderedRows = new WeakMap<CachedResult, string>();

/** `JSON.stringify(resultBody(entry, cache))`, with the rows rendered once per entry. */
export function resultJson(entry: CachedResult, cache: CacheOutcome): string {
  let rows = renderedRows.get(entry);
  if (rows === undefined) {
    rows = JSON.stringify(entry.data);
    renderedRows.set(entry, rows);
  }
  return `{"data":${rows},"meta":${JSON.stringify(resultMeta(entry, cache))}}`;
}

function resultMeta(entry: CachedResult, cache: CacheOutcome) {
  return {
    cache,
    queryId: entry.queryId,
    dataVersion: entry.dataVersion,
    computedAt: new Date(entry.computedAt).toISOString(),
    durationMs: entry.durationMs,
    source: entry.source,
    rowCount: entry.data.length,
    columns: entry.columns,
  };
}

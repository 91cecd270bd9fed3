// Cache hits answered without moving, decoding and re-encoding the same rows on every request: entries are held
// per isolate (`held-reads.ts`: re-read only when Redis says the text changed) and their answers rendered to
// JSON bytes once per entry.
import type { CachedResult } from "../../domain/query-jobs.ts";
import { type HeldRead, HeldValues } from "./held-reads.ts";
import { cachedResultFrom } from "./query-results.ts";

export type CacheOutcome = "hit" | "miss" | "stale";

const entries = new HeldValues<CachedResult>(cachedResultFrom, {
  maxChars: 256 * 1024,
  maxTotalChars: 8 * 1024 * 1024,
});

/** How a request reads a cache entry. */
export type EntryRead = HeldRead<CachedResult>;

/** The read for the entry under `key`: a plain GET, or a conditional one when the entry is held here. */
export function entryRead(key: string): EntryRead {
  return entries.read(key);
}

/** The entry from the reply to `read` (null when there is none, or it is not an entry). */
export function entryFrom(read: EntryRead, reply: unknown): CachedResult | null {
  return entries.valueFrom(read, reply);
}

/** The 200 body of a query answer (see `resultBytes`), as an object. */
export function resultBody(entry: CachedResult, cache: CacheOutcome) {
  return { data: entry.data, meta: resultMeta(entry, cache) };
}

/** Each entry's answer bodies, rendered once per cache outcome. */
const renderedBodies = new WeakMap<CachedResult, Partial<Record<CacheOutcome, Uint8Array<ArrayBuffer>>>>();
const utf8 = new TextEncoder();

/**
 * `JSON.stringify(resultBody(entry, cache))` as UTF-8, rendered once per entry and outcome: a held entry is
 * answered with the same bytes every time (a response copies its body, so one array serves them all).
 */
export function resultBytes(entry: CachedResult, cache: CacheOutcome): Uint8Array<ArrayBuffer> {
  let bodies = renderedBodies.get(entry);
  if (bodies === undefined) {
    bodies = {};
    renderedBodies.set(entry, bodies);
  }
  let bytes = bodies[cache];
  if (bytes === undefined) {
    // Copied into an array of its own type: the encoder's is typed as possibly shared, which bodies may not be.
    bytes = new Uint8Array(utf8.encode(JSON.stringify(resultBody(entry, cache))));
    bodies[cache] = bytes;
  }
  return bytes;
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

// Cache hits answered without moving, decoding and re-encoding the same rows on every request: entries are held
// per isolate (`held-reads.ts`: re-read only when Redis says the text changed) and their rows rendered to JSON
// once per entry.
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

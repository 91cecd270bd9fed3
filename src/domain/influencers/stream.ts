// What the collector appends to the points stream and the sink reads back. Each entry is one JSON field, so ids
// that look like numbers ("1e3", "1.50") come back exactly as sent, whatever the Redis client deserializes.
import type { Counters } from "./ids.ts";

/** A reading to store in `influencer_metrics`, stamped with its tick's scheduled time. */
export interface PointEntry {
  kind: "point";
  tenantId: string;
  influencerId: string;
  /** The tick's scheduled time, epoch ms: the point's timestamp. */
  ts: number;
  /** When the tick started running, epoch ms: `startedAt - ts` is the tick's lag. */
  startedAt: number;
  /** When the provider answered, epoch ms. */
  fetchedAt: number;
  intervalSeconds: number;
  counters: Counters;
}

/** A change the warehouse's `influencers` row should reflect: the loop stopped, or a tick found nothing. */
export interface StatusEntry {
  kind: "status";
  tenantId: string;
  influencerId: string;
  status: "active" | "stopped";
  intervalSeconds: number;
  /** The provider's last error, or null once it answers again. */
  error: string | null;
  at: number;
}

export type StreamEntry = PointEntry | StatusEntry;

/** The stream entry's only field. */
export const ENTRY_FIELD = "p";

export function encodeEntry(entry: StreamEntry): string {
  return JSON.stringify(entry);
}

/**
 * Reads one entry's field value (a string, or the object a deserializing client already made of it); undefined
 * when it is not an entry this version understands.
 */
export function decodeEntry(value: unknown): StreamEntry | undefined {
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const entry = parsed as Partial<StreamEntry>;
  if (typeof entry.tenantId !== "string" || typeof entry.influencerId !== "string") return undefined;
  if (entry.kind === "point" && typeof entry.ts === "number" && typeof entry.counters === "object") {
    return entry as PointEntry;
  }
  if (entry.kind === "status" && typeof entry.at === "number") return entry as StatusEntry;
  return undefined;
}

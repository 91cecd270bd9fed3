// Synthetic events for a bench tenant, written straight to the warehouse with their rollups: data for queries
// to read, with no ingest path in the way.
import type { Warehouse } from "../../src/warehouse/db.ts";
import { ensurePartitions } from "../../src/warehouse/partitions.ts";
import { type EventToStore, insertEventsWithRollups } from "../../src/warehouse/rollups.ts";

const DAY = 86_400_000;
const BATCH = 10_000;
const KINDS = ["impression", "impression", "impression", "view", "click", "conversion"] as const;

/** `count` events over the 7 days from `start` (epoch ms): 40 ads in 12 campaigns, 3 channels, 4 places. */
export async function seedWeekOfEvents(
  wh: Warehouse,
  tenantId: string,
  count: number,
  start: number,
  idPrefix = "e",
): Promise<void> {
  const end = start + 7 * DAY - 1;
  await ensurePartitions(wh.db, "ad_events", new Date(start), new Date(end));
  await ensurePartitions(wh.db, "ad_rollup_minute", new Date(start), new Date(end));
  for (let from = 0; from < count; from += BATCH) {
    const events: EventToStore[] = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => {
      const i = from + k;
      return {
        eventId: `${idPrefix}${i}`,
        ts: new Date(start + ((i * 7919) % (7 * 86_400)) * 1000),
        kind: KINDS[i % KINDS.length] as (typeof KINDS)[number],
        channel: ["google", "meta", "tiktok"][i % 3] as string,
        campaign: `c${i % 12}`,
        ad: `ad${i % 40}`,
        country: ["US", "FR", "DE", "GB"][i % 4] as string,
        city: ["Austin", "Paris", "Berlin", "Leeds"][i % 4] as string,
        cost: String((i % 5) * 0.25),
        revenue: String(i % 6 === 5 ? 3 : 0),
      };
    });
    await insertEventsWithRollups(wh.db, tenantId, events);
  }
}

// When an influencer's ticks fire. Each loop walks a grid `first + k * interval`; the first point of the grid
// is offset by a phase drawn from the influencer's id, so thousands of influencers on one interval spread over
// it instead of all firing at the same instant.
import { hash32 } from "../seeded-random.ts";

/**
 * How finely tick times are placed, in ms. Upstash QStash schedules to the second (`Upstash-Not-Before`), so
 * production uses 1000; the local broker honours millisecond delays, so the dev stack and tests use 1.
 */
export type TickPrecisionMs = number;

/** The influencer's offset within one interval, a multiple of `precisionMs`. */
export function tickPhaseMs(
  tenantId: string,
  influencerId: string,
  intervalSeconds: number,
  precisionMs: number,
): number {
  const slots = Math.max(1, Math.floor((intervalSeconds * 1000) / precisionMs));
  return (hash32(`${tenantId}\u0000${influencerId}`) % slots) * precisionMs;
}

/**
 * The first tick of a loop that starts at `now`: the earliest grid time strictly after it.
 *
 * @example firstTickAt("t1", "1000001", 60, 1000, Date.now()) // a whole second within the next minute
 */
export function firstTickAt(
  tenantId: string,
  influencerId: string,
  intervalSeconds: number,
  precisionMs: number,
  now: number,
): number {
  const step = intervalSeconds * 1000;
  const phase = tickPhaseMs(tenantId, influencerId, intervalSeconds, precisionMs);
  return phase + (Math.floor((now - phase) / step) + 1) * step;
}

/**
 * The tick after `at` on its grid, skipping grid times that leave less than `readWindowMs` after `now` (a loop
 * that was held up resumes on its cadence instead of bursting to catch up, and a late tick sheds the next slot).
 * Returns the next time and how many ticks it skipped. The claim script (scripts.ts) decides the same way.
 */
export function nextTickAfter(
  at: number,
  intervalSeconds: number,
  now: number,
  readWindowMs = 0,
): { next: number; skipped: number } {
  const step = intervalSeconds * 1000;
  const horizon = now + readWindowMs;
  if (at + step > horizon) return { next: at + step, skipped: 0 };
  const k = Math.floor((horizon - at) / step) + 1;
  return { next: at + k * step, skipped: k - 1 };
}

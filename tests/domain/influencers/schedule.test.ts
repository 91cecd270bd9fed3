import { describe, expect, test } from "bun:test";
import { firstTickAt, nextTickAfter, tickPhaseMs } from "../../../src/domain/influencers/schedule.ts";

describe("tick grid", () => {
  test("the first tick is the next grid time after now, on the influencer's phase", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0, 500);
    for (const precision of [1, 1000]) {
      for (let i = 0; i < 100; i++) {
        const at = firstTickAt("t1", `id-${i}`, 60, precision, now);
        expect(at).toBeGreaterThan(now);
        expect(at).toBeLessThanOrEqual(now + 60_000);
        expect(at % precision).toBe(0);
        expect(at % 60_000).toBe(tickPhaseMs("t1", `id-${i}`, 60, precision));
      }
    }
  });

  test("phases spread influencers over the interval", () => {
    const phases = Array.from({ length: 1000 }, (_, i) => tickPhaseMs("t1", String(1_000_000 + i), 1, 1));
    const perTenth = Array.from(
      { length: 10 },
      (_, d) => phases.filter((p) => Math.floor(p / 100) === d).length,
    );
    for (const count of perTenth) expect(count).toBeGreaterThan(60); // ~100 each
    expect(tickPhaseMs("t1", "x", 1, 1000)).toBe(0); // whole seconds only: a 1 s interval has one slot
  });

  test("the next tick is one interval on, or the first grid time leaving a read window after now", () => {
    const at = 1_000_000;
    expect(nextTickAfter(at, 5, at + 100)).toEqual({ next: at + 5000, skipped: 0 });
    expect(nextTickAfter(at, 5, at + 4999)).toEqual({ next: at + 5000, skipped: 0 });
    expect(nextTickAfter(at, 5, at + 5000)).toEqual({ next: at + 10_000, skipped: 1 });
    expect(nextTickAfter(at, 5, at + 17_000)).toEqual({ next: at + 20_000, skipped: 3 });
    // With a read window, a grid time too close to now is skipped as well.
    expect(nextTickAfter(at, 5, at + 4950, 100)).toEqual({ next: at + 10_000, skipped: 1 });
    expect(nextTickAfter(at, 5, at + 4800, 100)).toEqual({ next: at + 5000, skipped: 0 });
  });
});

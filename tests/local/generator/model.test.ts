import { describe, expect, test } from "bun:test";
import { validateEvent } from "../../../src/domain/events/index.ts";
import { buildCatalogue, EventStream } from "../../../src/local/generator/index.ts";

const NOW = Date.UTC(2026, 10, 25, 12);

function sample(n: number, seed = 1) {
  const stream = new EventStream(buildCatalogue({ seed }), { seed, runId: "t" });
  return Array.from({ length: n }, () => stream.next(NOW));
}

describe("generated events", () => {
  const events = sample(50_000);
  const count = (kind: string) => events.filter((event) => event.kind === kind).length;

  test("every event is valid as the API sees it, and ids are unique", () => {
    for (const event of events.slice(0, 5000)) {
      const check = validateEvent(event, { now: NOW });
      if (!check.ok) throw new Error(`${check.field}: ${check.message}`);
      expect(check.event).toEqual(event);
    }
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  });

  test("impressions far outnumber clicks, clicks far outnumber conversions", () => {
    const [impressions, clicks, conversions] = [count("impression"), count("click"), count("conversion")];
    expect(impressions).toBeGreaterThan(10 * clicks);
    expect(clicks).toBeGreaterThan(10 * conversions);
    expect(conversions).toBeGreaterThan(0);
    expect(count("view")).toBeGreaterThan(0);
  });

  test("ad popularity is skewed: the top 10% of ads get most of the traffic", () => {
    const perAd = new Map<string, number>();
    for (const event of events) perAd.set(event.ad, (perAd.get(event.ad) ?? 0) + 1);
    const sorted = [...perAd.values()].sort((a, b) => b - a);
    const top = sorted.slice(0, Math.ceil(sorted.length / 10)).reduce((a, b) => a + b, 0);
    expect(top / events.length).toBeGreaterThan(0.5);
  });

  test("an ad always runs in one campaign on one channel; costs and revenue fit the kind", () => {
    const campaignOf = new Map<string, string>();
    for (const event of events) {
      const key = `${event.campaign}|${event.channel}`;
      expect(campaignOf.get(event.ad) ?? key).toBe(key);
      campaignOf.set(event.ad, key);
      if (event.kind === "conversion") expect(Number(event.revenue)).toBeGreaterThan(0);
      else expect(event.revenue).toBe("0");
      if (event.kind === "click") expect(Number(event.cost)).toBeGreaterThan(0);
    }
    expect(new Set(events.map((event) => event.channel)).size).toBeGreaterThan(2);
    expect(new Set(events.map((event) => event.country)).size).toBeGreaterThan(10);
  });

  test("mostly now, a few late; the same seed gives the same stream", () => {
    const late = events.filter((event) => Date.parse(event.ts) < NOW - 2000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.length / events.length).toBeLessThan(0.03);
    expect(sample(100, 9)).toEqual(sample(100, 9));
    expect(sample(100, 9)).not.toEqual(sample(100, 10));
  });
});

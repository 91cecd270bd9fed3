// Rollups against raw events on randomised data: for random events and random queries, the compiler's choice
// of table, raw events, and brute force all give the same rows; folding counts a redelivered batch once. The
// campaign day rollup gets its own property, since random queries reach it only now and then.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { parseQuery, type Query } from "../../../src/domain/query/index.ts";
import { openWarehouse } from "../../../src/warehouse/db.ts";
import { insertEventsWithRollups, ROLLUPS } from "../../../src/warehouse/rollups.ts";
import { campaignDayQuery, NOW, testEvents, validQuery, zoneSensitiveQuery } from "./arbitraries.ts";
import { referenceAnswer, type TestEvent, toStored } from "./reference.ts";
import { openTestWarehouse, type TestWarehouse } from "./support.ts";

let tw: TestWarehouse;

/** Whether a query selects or filters on `ad` or `city`, at any depth. */
function namesAdOrCity(query: Query): boolean {
  const named = (node: unknown): boolean => {
    if (typeof node !== "object" || node === null) return false;
    const { member, and, or } = node as { member?: string; and?: unknown[]; or?: unknown[] };
    if (member === "ad" || member === "city") return true;
    return [...(and ?? []), ...(or ?? [])].some(named);
  };
  return (
    (query.dimensions ?? []).some((d) => d === "ad" || d === "city") || (query.filters ?? []).some(named)
  );
}
/** Every event stored so far, all tenants: the brute force sees what the warehouse holds. */
const stored: TestEvent[] = [];

beforeAll(async () => {
  tw = await openTestWarehouse();
  // A neighbour whose rows share every dimension value with the runs' tenants.
  const neighbour = fc.sample(testEvents, { numRuns: 20, seed: 7 }).flat();
  const events = neighbour.map((e, i) => ({ ...e, tenantId: "neighbour", eventId: `n${i}` }) as TestEvent);
  expect(events.length).toBeGreaterThan(20);
  await tw.store("neighbour", events.map(toStored));
  stored.push(...events);
});

afterAll(async () => {
  await tw?.close();
});

test("rollup answer == raw answer == brute force, for random events and queries", async () => {
  const sources: Record<string, number> = {};
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      testEvents,
      fc.array(validQuery, { minLength: 1, maxLength: 3 }),
      async (generated, queries) => {
        const tenantId = `run${++run}`;
        const events = generated.map((e, i) => ({ ...e, tenantId, eventId: `e${i}` }) as TestEvent);
        // The batch carries one event twice, then the whole batch is delivered again: each event counts once.
        const batch = [...events, ...events.slice(0, 1)].map(toStored);
        expect(await tw.store(tenantId, batch)).toBe(events.length);
        expect(await tw.store(tenantId, batch)).toBe(0);
        stored.push(...events);

        for (const input of queries) {
          const parsed = parseQuery(input, { now: NOW });
          if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
          const chosen = await tw.run(parsed.query, tenantId, NOW);
          const raw = await tw.run(parsed.query, tenantId, NOW, false);
          expect(chosen.rows).toEqual(raw.rows);
          expect(raw.rows).toEqual(referenceAnswer(stored, parsed.query, tenantId, NOW));
          // The campaign day rollup has no ad or city column: a query naming either must not read it.
          if (namesAdOrCity(parsed.query)) expect(chosen.source).not.toBe("rollup_day_campaign");
          sources[chosen.source] = (sources[chosen.source] ?? 0) + 1;
        }
      },
    ),
    { numRuns: 30 },
  );
  // The runs did reach the rollups (the exact mix varies with the seed).
  const fromRollups =
    (sources.rollup_day_campaign ?? 0) +
    (sources.rollup_day ?? 0) +
    (sources.rollup_hour ?? 0) +
    (sources.rollup_minute ?? 0);
  expect(fromRollups).toBeGreaterThan(0);
});

test("channel / campaign / country questions by whole days: the campaign day rollup, same rows as raw and brute force", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(testEvents, campaignDayQuery, async (generated, query) => {
      const tenantId = `campaign${++run}`;
      const events = generated.map((e, i) => ({ ...e, tenantId, eventId: `e${i}` }) as TestEvent);
      // Delivered three times: the narrow rollup, like the others, counts each event once.
      for (let i = 0; i < 3; i++) await tw.store(tenantId, events.map(toStored));
      stored.push(...events);
      const parsed = parseQuery(query, { now: NOW });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      const chosen = await tw.run(parsed.query, tenantId, NOW);
      expect(chosen.source).toBe("rollup_day_campaign");
      expect(chosen.rows).toEqual((await tw.run(parsed.query, tenantId, NOW, false)).rows);
      expect(chosen.rows).toEqual(referenceAnswer(stored, parsed.query, tenantId, NOW));
    }),
    { numRuns: 25 },
  );
});

test("the same question naming ad or city, selected or filtered on, reads the full day rollup", async () => {
  const tenantId = "campaign-vs-ad";
  const events = fc.sample(testEvents, { numRuns: 3, seed: 11 }).flat();
  const mine = events.map((e, i) => ({ ...e, tenantId, eventId: `e${i}` }) as TestEvent);
  await tw.store(tenantId, mine.map(toStored));
  stored.push(...mine);
  const base: Query = {
    measures: ["clicks", "spend", "ctr"],
    dimensions: ["channel", "country"],
    timeDimension: { granularity: "day", dateRange: ["2026-03-05", "2026-03-10"] },
  };
  const variants: [Query, string][] = [
    [base, "rollup_day_campaign"],
    [{ ...base, dimensions: ["channel", "ad"] }, "rollup_day"],
    [{ ...base, dimensions: ["city"] }, "rollup_day"],
    [{ ...base, filters: [{ member: "ad", operator: "notEquals", values: ["a1"] }] }, "rollup_day"],
    [
      {
        ...base,
        filters: [
          {
            or: [
              { member: "city", operator: "set" },
              { member: "channel", operator: "set" },
            ],
          },
        ],
      },
      "rollup_day",
    ],
  ];
  for (const [query, expected] of variants) {
    const parsed = parseQuery(query, { now: NOW });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const chosen = await tw.run(parsed.query, tenantId, NOW);
    expect(chosen.source).toBe(expected);
    expect(chosen.rows.length).toBeGreaterThan(0);
    expect(chosen.rows).toEqual(referenceAnswer(stored, parsed.query, tenantId, NOW));
  }
});

test("zones whose local buckets are not UTC's get the same numbers from rollups as from raw events", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(testEvents, zoneSensitiveQuery, async (generated, query) => {
      const tenantId = `zone${++run}`;
      const events = generated.map((e, i) => ({ ...e, tenantId, eventId: `e${i}` }) as TestEvent);
      await tw.store(tenantId, events.map(toStored));
      stored.push(...events);
      const chosen = await tw.run(query, tenantId, NOW);
      expect(chosen.rows).toEqual((await tw.run(query, tenantId, NOW, false)).rows);
      expect(chosen.rows).toEqual(referenceAnswer(stored, query, tenantId, NOW));
    }),
    { numRuns: 15 },
  );
});

test("concurrent batches over the same rollup rows neither deadlock nor lose counts", async () => {
  const parallel = openWarehouse(tw.url, { max: 4 });
  try {
    const tenantId = "concurrent";
    // Eight batches, each touching the same 2 channels x 2 ads in the same two minutes, in shuffled orders.
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => {
        const e: TestEvent = {
          tenantId,
          eventId: `b${b}-${i}`,
          ts: Date.UTC(2026, 2, 8, 12, (i * 7 + b) % 2, i % 60),
          kind: i % 3 === 0 ? "click" : "impression",
          channel: i % 2 === 0 ? "google" : "email",
          campaign: "spring",
          ad: (i * 5 + b) % 4 < 2 ? "a1" : "a2",
          country: "US",
          city: "Paris",
          costMicros: 1000 + i,
          revenueMicros: 0,
        };
        return e;
      }),
    );
    await Promise.all(
      batches.map((batch) => insertEventsWithRollups(parallel.db, tenantId, batch.map(toStored))),
    );
    stored.push(...batches.flat());
    const query = parseQuery(
      { measures: ["impressions", "clicks", "spend"], dimensions: ["channel", "ad"] },
      { now: NOW },
    );
    if (!query.ok) throw new Error("invalid");
    const fromRollups = await tw.run(query.query, tenantId, NOW);
    expect(fromRollups.source).toBe("rollup_day");
    expect(fromRollups.rows).toEqual(referenceAnswer(stored, query.query, tenantId, NOW));
  } finally {
    await parallel.close();
  }
});

test("every rollup holds exactly the raw events' totals, per grain and kept dimensions", async () => {
  expect(ROLLUPS.map((rollup) => rollup.table)).toContain("ad_rollup_day_campaign");
  for (const { table, grain, dimensions } of ROLLUPS) {
    const key = ["tenant_id", "bucket", ...dimensions].join(", ");
    const drift = await tw.wh.sql.unsafe(`
      WITH raw AS (
        SELECT tenant_id, date_trunc('${grain}', ts, 'UTC') AS bucket, ${dimensions.join(", ")},
          count(*) FILTER (WHERE kind = 'impression') AS impressions, count(*) FILTER (WHERE kind = 'view') AS views,
          count(*) FILTER (WHERE kind = 'click') AS clicks, count(*) FILTER (WHERE kind = 'conversion') AS conversions,
          sum(cost) AS spend, sum(revenue) AS revenue
        FROM ad_events GROUP BY ${key}
      ), rolled AS (
        SELECT ${key}, impressions, views, clicks, conversions, spend, revenue
        FROM ${table}
      )
      SELECT count(*)::int AS n FROM ((SELECT * FROM raw EXCEPT SELECT * FROM rolled) UNION ALL (SELECT * FROM rolled EXCEPT SELECT * FROM raw)) d`);
    expect({ table, drift: drift[0]?.n }).toEqual({ table, drift: 0 });
  }
  const [counts] = await tw.wh.sql`select count(*)::int as events from ad_events`;
  expect(counts?.events).toBe(stored.length);
});

// fast-check generators for semantic queries: valid ones (over a small vocabulary the test events share, so
// filters match rows) and mutations of them.
import fc from "fast-check";
import { DIMENSIONS, type Dimension, MEASURES, type Query } from "../../../src/domain/query/index.ts";

/** The instant relative ranges resolve against in these tests: inside the events' window. */
export const NOW = Date.UTC(2026, 2, 9, 13, 47, 25, 123);
/** Events fall in [WINDOW.from, WINDOW.to): around the US switch to daylight time (2026-03-08 07:00Z). */
export const WINDOW = { from: Date.UTC(2026, 2, 6, 12), to: Date.UTC(2026, 2, 10) };

export const VOCABULARY: Record<Dimension, string[]> = {
  channel: ["google", "facebook", "email"],
  campaign: ["spring", "Black_Friday", "50%off"],
  ad: ["a1", "a2", "a3", "a10"],
  country: ["US", "FR", "IN"],
  city: ["New York", "Paris", "Pune"],
};

export const ZONES = [
  "UTC",
  "America/New_York",
  "Europe/London",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Lord_Howe",
];

/** Strings close to the vocabulary (case, fragments, LIKE wildcards) plus arbitrary ones. */
const dimensionValue = (dimension: Dimension) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...VOCABULARY[dimension]) },
    { weight: 2, arbitrary: fc.constantFrom("york", "NEW", "a1", "_", "%", "o", "Y", "'", "\\") },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  );

const dimensionLeafOver = (dimensions: readonly Dimension[]) =>
  fc.constantFrom(...dimensions).chain((member) =>
    fc.oneof(
      fc.record({
        member: fc.constant(member),
        operator: fc.constantFrom(
          "equals",
          "notEquals",
          "in",
          "notIn",
          "contains",
          "notContains",
          "startsWith",
          "endsWith",
        ),
        values: fc.array(dimensionValue(member), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ member: fc.constant(member), operator: fc.constantFrom("set", "notSet") }),
    ),
  );

const measureLeaf = fc.constantFrom(...MEASURES).chain((member) =>
  fc.oneof(
    fc.record({
      member: fc.constant(member),
      operator: fc.constantFrom("gt", "gte", "lt", "lte"),
      values: fc.tuple(fc.oneof(fc.constantFrom(0, 1, 2, 0.5, 3.25), fc.constantFrom("1", "0.75", "-2"))),
    }),
    fc.record({
      member: fc.constant(member),
      operator: fc.constantFrom("equals", "notEquals", "in", "notIn"),
      values: fc.array(fc.constantFrom(0, 1, 2, 3, 0.5, "1"), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ member: fc.constant(member), operator: fc.constantFrom("set", "notSet") }),
  ),
);

/**
 * A filter on the given dimensions or any measure: a leaf, or an and / or of leaves of one phase (measure or
 * dimension), sometimes nested once.
 */
const filterOver = (dimensions: readonly Dimension[]): fc.Arbitrary<unknown> => {
  const dimensionLeaf = dimensionLeafOver(dimensions) as fc.Arbitrary<unknown>;
  return fc.oneof(
    { weight: 4, arbitrary: dimensionLeaf },
    { weight: 2, arbitrary: measureLeaf as fc.Arbitrary<unknown> },
    ...[dimensionLeaf, measureLeaf as fc.Arbitrary<unknown>].map((leaf) => ({
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("and", "or"), fc.array(leaf, { minLength: 1, maxLength: 3 }), fc.boolean())
        .map(([kind, children, nest]) => {
          const group = { [kind]: children };
          return nest ? { [kind === "and" ? "or" : "and"]: [group, children[0]] } : group;
        }),
    })),
  );
};
const filter = filterOver(DIMENSIONS);

const day = fc.integer({ min: 5, max: 10 }).map((d) => `2026-03-${String(d).padStart(2, "0")}`);
// Often midnight or whole hours (so UTC-aligned ranges meet zones whose local buckets are not), sometimes not.
const hhmmss = fc.tuple(
  fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 23 })),
  fc.constantFrom(0, 0, 0, 30, 45, 17),
  fc.constantFrom(0, 0, 30),
);
const spanHours = fc.oneof(fc.constantFrom(24, 48, 72), fc.integer({ min: 1, max: 40 }));
const pad = (n: number) => String(n).padStart(2, "0");

/** Absolute ranges (days, UTC or offset date-times, local date-times) and relative ones. */
const dateRange = fc.oneof(
  fc.tuple(day, day).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
  fc
    .tuple(day, hhmmss, spanHours, fc.constantFrom("Z", "Z", "+05:30", "-05:00", ""))
    .map(([d, [h, m, s], hours, zone]) => {
      const wall = `${d}T${pad(h)}:${pad(m)}:${pad(s)}`;
      const from = `${wall}${zone}`;
      const end = new Date(Date.parse(`${wall}Z`) + hours * 3_600_000 - 1);
      return [from, `${end.toISOString().slice(0, 23)}${zone}`];
    }),
  fc.constantFrom(
    "today",
    "yesterday",
    "last 2 days",
    "last 7 days",
    "last 36 hours",
    "last 90 minutes",
    "this week",
    "this month",
    "last 2 weeks",
  ),
);

function selectedMembers(query: Query): string[] {
  return [
    ...(query.measures ?? []),
    ...(query.dimensions ?? []),
    ...(query.timeDimension?.granularity ? ["ts"] : []),
  ];
}

/** Queries `parseQuery` accepts (at NOW). */
export const validQuery: fc.Arbitrary<Query> = fc
  .record(
    {
      measures: fc.subarray([...MEASURES], { maxLength: 4 }),
      dimensions: fc.subarray([...DIMENSIONS], { maxLength: 2 }),
      timeDimension: fc.record(
        { granularity: fc.constantFrom("minute", "hour", "day", "week", "month"), dateRange },
        { requiredKeys: ["dateRange"] },
      ),
      filters: fc.array(filter, { maxLength: 3 }),
      limit: fc.integer({ min: 1, max: 6 }),
      offset: fc.integer({ min: 0, max: 2 }),
      timezone: fc.constantFrom(...ZONES),
    },
    { requiredKeys: [] },
  )
  .filter(
    (q) => (q.measures?.length ?? 0) + (q.dimensions?.length ?? 0) > 0 || !!q.timeDimension?.granularity,
  )
  .chain((query) => {
    const members = selectedMembers(query as Query);
    const order = fc.oneof(
      fc.constant(undefined),
      fc
        .shuffledSubarray(members, { maxLength: Math.min(2, members.length) })
        .chain((picked) =>
          fc
            .tuple(...picked.map(() => fc.constantFrom("asc" as const, "desc" as const)))
            .map((dirs) => picked.map((member, i) => [member, dirs[i]] as [string, "asc" | "desc"])),
        ),
    );
    return order.map((o) => (o === undefined ? query : { ...query, order: o }) as Query);
  });

/** A copy of `value` with the node at a random path replaced, removed, or given a stray key. */
export const mutatedQuery = fc
  .tuple(
    validQuery,
    fc.infiniteStream(fc.nat()),
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom("replace", "delete", "add"),
  )
  .map(([query, choices, replacement, how]) => mutate(structuredClone(query), choices, replacement, how));

function mutate(root: unknown, choices: Iterator<number>, replacement: unknown, how: string): unknown {
  let node = root;
  for (let depth = 0; depth < 6; depth++) {
    if (typeof node !== "object" || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[(choices.next().value as number) % keys.length] as string;
    const child = (node as Record<string, unknown>)[key];
    const stop = (choices.next().value as number) % 3 === 0 || typeof child !== "object" || child === null;
    if (stop) {
      const target = node as Record<string, unknown>;
      if (how === "delete") delete target[key];
      else if (how === "add") target[`x${key}`] = replacement;
      else target[key] = replacement;
      return root;
    }
    node = child;
  }
  return replacement;
}

/** Events of one tenant inside WINDOW, many of them on or next to bucket edges. */
export const testEvents = fc.array(
  fc.record({
    ts: fc.oneof(
      fc.integer({ min: WINDOW.from, max: WINDOW.to - 1 }),
      fc
        .tuple(
          fc.integer({ min: WINDOW.from / 3_600_000, max: WINDOW.to / 3_600_000 - 1 }),
          fc.constantFrom(-1, 0, 1, 1_799_999),
        )
        .map(([hour, ms]) => hour * 3_600_000 + ms),
    ),
    kind: fc.constantFrom("impression", "impression", "impression", "view", "click", "click", "conversion"),
    channel: fc.constantFrom(...VOCABULARY.channel),
    campaign: fc.constantFrom(...VOCABULARY.campaign),
    ad: fc.constantFrom(...VOCABULARY.ad),
    country: fc.constantFrom(...VOCABULARY.country),
    city: fc.constantFrom(...VOCABULARY.city),
    costMicros: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000_000 })),
    revenueMicros: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 50_000_000 })),
  }),
  { maxLength: 40 },
);

/**
 * Queries with time buckets over ranges that are whole UTC days or hours, in zones whose local buckets are
 * not UTC's: the rollup whose edges fit the range would split local buckets, so the zone must rule it out.
 */
export const zoneSensitiveQuery: fc.Arbitrary<Query> = fc
  .record({
    measures: fc.subarray(["impressions", "clicks", "spend", "ctr"], { minLength: 1 }),
    dimensions: fc.subarray(["channel", "ad"], { maxLength: 1 }),
    granularity: fc.constantFrom("hour", "day", "week", "month"),
    start: fc.integer({ min: 6, max: 9 }),
    startHour: fc.constantFrom(0, 0, 3, 12),
    hours: fc.constantFrom(24, 48, 72, 6),
    timezone: fc.constantFrom("America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"),
  })
  .map(({ measures, dimensions, granularity, start, startHour, hours, timezone }) => {
    const from = Date.UTC(2026, 2, start, startHour);
    const to = from + hours * 3_600_000 - 1;
    return {
      measures,
      dimensions,
      timeDimension: { granularity, dateRange: [new Date(from).toISOString(), new Date(to).toISOString()] },
      timezone,
    } as Query;
  });

/** The dimensions ad_rollup_day_campaign keeps. */
export const CAMPAIGN_DIMENSIONS: readonly Dimension[] = ["channel", "campaign", "country"];

/**
 * Queries the campaign day rollup can answer: only channel, campaign and country selected or filtered on
 * (and any measure), whole UTC days, buckets of a day or more in zones whose days are UTC's in March.
 */
export const campaignDayQuery: fc.Arbitrary<Query> = fc
  .record(
    {
      measures: fc.subarray([...MEASURES], { minLength: 1, maxLength: 4 }),
      dimensions: fc.subarray([...CAMPAIGN_DIMENSIONS], { maxLength: 3 }),
      timeDimension: fc.record(
        {
          granularity: fc.constantFrom("day", "week", "month"),
          dateRange: fc.tuple(day, day).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
        },
        { requiredKeys: ["dateRange"] },
      ),
      filters: fc.array(filterOver(CAMPAIGN_DIMENSIONS), { maxLength: 3 }),
      limit: fc.integer({ min: 1, max: 20 }),
      timezone: fc.constantFrom("UTC", "Europe/London"),
    },
    { requiredKeys: ["measures", "timeDimension"] },
  )
  .map((query) => query as Query);

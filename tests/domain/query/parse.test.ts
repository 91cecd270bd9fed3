import { describe, expect, test } from "bun:test";
import { catalogueMeta, LIMITS, parseQuery } from "../../../src/domain/query/index.ts";

const NOW = Date.UTC(2026, 10, 25, 15, 7, 12);

/** The errors of a query that must be refused. */
function errorsOf(input: unknown) {
  const result = parseQuery(input, { now: NOW });
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return result.errors;
}

const fields = (input: unknown) => errorsOf(input).map((error) => error.field);

describe("parseQuery accepts", () => {
  test("the design document's example", () => {
    const query = {
      measures: ["clicks", "impressions", "spend", "ctr"],
      dimensions: ["channel", "campaign", "country"],
      timeDimension: { granularity: "day", dateRange: ["2026-11-01", "2026-11-25"] },
      filters: [{ member: "channel", operator: "equals", values: ["google", "facebook"] }],
      order: { clicks: "desc" },
      limit: 100,
    };
    expect(parseQuery(query, { now: NOW })).toEqual({ ok: true, query } as never);
  });

  test("every operator on a member of the right type, nested and / or, both order forms", () => {
    const result = parseQuery(
      {
        measures: ["ctr", "spend"],
        dimensions: ["city"],
        timeDimension: { dimension: "ts", granularity: "week", dateRange: "last 30 days" },
        filters: [
          { member: "city", operator: "notIn", values: ["Paris"] },
          {
            or: [
              { member: "city", operator: "startsWith", values: ["New"] },
              { member: "ad", operator: "set" },
            ],
          },
          {
            and: [
              { member: "spend", operator: "gte", values: ["10.50"] },
              { member: "ctr", operator: "lt", values: [0.2] },
            ],
          },
          { member: "conversions", operator: "notSet" },
        ],
        order: [
          ["ts", "asc"],
          ["ctr", "desc"],
        ],
        timezone: "Europe/Paris",
        offset: 10,
      },
      { now: NOW },
    );
    expect(result.ok).toBe(true);
  });
});

describe("parseQuery refuses, naming the field", () => {
  test("unknown members, and SQL in a member name is just an unknown member", () => {
    expect(errorsOf({ measures: ["clicks", "clicks); DROP TABLE ad_events; --"] })).toEqual([
      { field: "measures[1]", message: expect.stringContaining("unknown measure") },
    ]);
    expect(fields({ dimensions: ["channel", "tenant_id"] })).toEqual(["dimensions[1]"]);
    expect(
      fields({ measures: ["clicks"], filters: [{ member: "1=1 OR", operator: "equals", values: ["x"] }] }),
    ).toEqual(["filters[0].member"]);
    expect(fields({ measures: ["clicks"], order: { "clicks desc; --": "asc" } })).toEqual([
      'order["clicks desc; --"]',
    ]);
  });

  test("an operator that does not fit the member's type", () => {
    const [error] = errorsOf({
      measures: ["clicks"],
      filters: [{ member: "channel", operator: "gt", values: ["a"] }],
    });
    expect(error).toEqual({
      field: "filters[0].operator",
      message: expect.stringContaining("does not apply"),
    });
    expect(
      fields({ measures: ["clicks"], filters: [{ member: "clicks", operator: "contains", values: ["1"] }] }),
    ).toEqual(["filters[0].operator"]);
    expect(
      fields({ measures: ["clicks"], filters: [{ member: "clicks", operator: "like", values: [1] }] }),
    ).toEqual(["filters[0].operator"]);
  });

  test("values of the wrong type, deep inside and / or", () => {
    // Values that are not even strings or numbers fail the shape; the rest fail their member's type.
    expect(
      fields({
        measures: ["clicks"],
        filters: [{ member: "city", operator: "in", values: ["Paris", true] }],
      }),
    ).toEqual(["filters[0].values[1]"]);
    expect(
      fields({
        measures: ["clicks"],
        filters: [
          { member: "channel", operator: "equals", values: ["google", 7] },
          { and: [{ or: [{ member: "spend", operator: "gt", values: ["ten"] }] }] },
          { member: "ctr", operator: "in", values: [0.1, "1e400"] },
        ],
      }),
    ).toEqual(["filters[0].values[1]", "filters[1].and[0].or[0].values[0]", "filters[2].values[1]"]);
  });

  test("value counts that do not fit the operator", () => {
    expect(
      fields({
        measures: ["clicks"],
        filters: [
          { member: "clicks", operator: "gt", values: [1, 2] },
          { member: "channel", operator: "in", values: [] },
          { member: "channel", operator: "set", values: ["x"] },
        ],
      }),
    ).toEqual(["filters[0].values", "filters[1].values", "filters[2].values"]);
  });

  test("too many items, too long strings, limits out of range", () => {
    expect(fields({ measures: Array(LIMITS.maxMembers + 1).fill("clicks") })).toEqual(["measures"]);
    expect(
      fields({
        measures: ["clicks"],
        filters: [{ member: "ad", operator: "in", values: Array(LIMITS.maxValues + 1).fill("a") }],
      }),
    ).toEqual(["filters[0].values"]);
    expect(
      fields({
        measures: ["clicks"],
        filters: [{ member: "ad", operator: "in", values: ["a".repeat(LIMITS.maxValueLength + 1)] }],
      }),
    ).toEqual(["filters[0].values[0]"]);
    expect(fields({ measures: ["clicks"], limit: LIMITS.maxLimit + 1 })).toEqual(["limit"]);
    expect(fields({ measures: ["clicks"], limit: 0 })).toEqual(["limit"]);
    expect(fields({ measures: ["clicks"], limit: 1.5 })).toEqual(["limit"]);
    expect(fields({ measures: ["clicks"], offset: -1 })).toEqual(["offset"]);
  });

  test("nesting deeper than allowed, and measure / dimension mixes in one group", () => {
    let node: unknown = { member: "ad", operator: "set" };
    for (let i = 0; i <= LIMITS.maxFilterDepth; i++) node = { and: [node] };
    expect(fields({ measures: ["clicks"], filters: [node] })).toEqual([
      "filters[0].and[0].and[0].and[0].and[0]",
    ]);
    const [mixed] = errorsOf({
      measures: ["clicks"],
      filters: [
        {
          or: [
            { member: "ad", operator: "set" },
            { member: "clicks", operator: "gt", values: [3] },
          ],
        },
      ],
    });
    expect(mixed).toEqual({ field: "filters[0]", message: expect.stringContaining("cannot mix") });
    // An and reached through ands only is split into WHERE and HAVING; under an or it cannot be.
    const and = {
      and: [
        { member: "ad", operator: "set" },
        { member: "clicks", operator: "gt", values: [3] },
      ],
    };
    expect(parseQuery({ measures: ["clicks"], filters: [{ and: [and] }] }, { now: NOW }).ok).toBe(true);
    expect(
      fields({ measures: ["clicks"], filters: [{ or: [and, { member: "ad", operator: "notSet" }] }] }),
    ).toEqual(["filters[0]", "filters[0].or[0]"]);
  });

  test("unknown fields, and shapes that fit no kind of filter", () => {
    expect(errorsOf({ measures: ["clicks"], select: "*" })).toEqual([
      { field: "select", message: "unknown field" },
    ]);
    expect(fields({ measures: ["clicks"], filters: [{}] })).toEqual(["filters[0]"]);
    expect(fields({ measures: ["clicks"], filters: [{ member: "ad", operator: "set", value: 1 }] })).toEqual([
      "filters[0].value",
    ]);
    expect(fields({ measures: ["clicks"], filters: [{ and: [{ member: "ad" }] }] })).toEqual([
      "filters[0].and[0].operator",
    ]);
  });

  test("order: unknown, unselected, or time without a granularity", () => {
    expect(fields({ measures: ["clicks"], order: { impressions: "desc" } })).toEqual(["order.impressions"]);
    expect(fields({ measures: ["clicks"], order: [["clicks", "down"]] })).toEqual(["order[0][1]"]);
    expect(
      fields({ measures: ["clicks"], order: [["ts", "asc"]], timeDimension: { dateRange: "today" } }),
    ).toEqual(["order[0][0]"]);
  });

  test("time zones and date ranges", () => {
    expect(fields({ measures: ["clicks"], timezone: "Mars/Olympus_Mons" })).toEqual(["timezone"]);
    // Intl takes offsets, but Postgres reads "+05:30" with the opposite sign: only IANA names are accepted.
    expect(fields({ measures: ["clicks"], timezone: "+05:30" })).toEqual(["timezone"]);
    const range = (dateRange: unknown) => fields({ measures: ["clicks"], timeDimension: { dateRange } });
    expect(range(["2026-11-01", "2026-02-30"])).toEqual(["timeDimension.dateRange[1]"]);
    expect(range(["2026-11-05", "2026-11-01"])).toEqual(["timeDimension.dateRange[1]"]);
    expect(range(["1969-12-31", "2026-11-01"])).toEqual(["timeDimension.dateRange[0]"]);
    expect(range("last 7 fortnights")).toEqual(["timeDimension.dateRange"]);
    expect(range("last 0 days")).toEqual(["timeDimension.dateRange"]);
    expect(range(["2026-11-01"])).toEqual(["timeDimension.dateRange"]);
    expect(
      fields({ measures: ["clicks"], timeDimension: { granularity: "fortnight", dateRange: "today" } }),
    ).toEqual(["timeDimension.granularity"]);
    expect(fields({ measures: ["clicks"], timeDimension: { granularity: "day" } })).toEqual([
      "timeDimension.dateRange",
    ]);
  });

  test("an empty selection, duplicates, and input that is not a query at all", () => {
    expect(fields({})).toEqual(["measures"]);
    expect(fields({ measures: ["clicks", "ctr", "clicks"] })).toEqual(["measures[2]"]);
    for (const input of [null, "SELECT 1", 42, [], undefined]) expect(fields(input)).toEqual(["query"]);
  });

  test("huge or deep input is refused cheaply, before the schema walks it", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(errorsOf({ measures: ["clicks"], filters: deep })[0]?.message).toContain("too large");
    const wide = { measures: ["clicks"], filters: Array(1_000_000).fill({ member: "ad", operator: "set" }) };
    const started = performance.now();
    expect(fields(wide)).toEqual(["query"]);
    expect(performance.now() - started).toBeLessThan(200);
    const cyclic: Record<string, unknown> = { measures: ["clicks"] };
    cyclic.filters = [cyclic];
    expect(fields(cyclic)).toEqual(["query"]);
  });
});

test("the catalogue lists every member with a type, title and description", () => {
  const meta = catalogueMeta();
  expect(meta.measures.map((m) => m.name)).toEqual([
    "impressions",
    "views",
    "clicks",
    "conversions",
    "spend",
    "revenue",
    "ctr",
    "cpc",
    "cpa",
    "roas",
    "conversion_rate",
  ]);
  expect(meta.dimensions.map((d) => d.name)).toEqual(["channel", "campaign", "ad", "country", "city"]);
  expect(meta.timeDimensions[0]?.granularities).toEqual(["minute", "hour", "day", "week", "month"]);
  for (const member of [...meta.measures, ...meta.dimensions]) {
    expect(member.title.length).toBeGreaterThan(0);
    expect(member.description.length).toBeGreaterThan(0);
  }
  expect(meta.measures.find((m) => m.name === "ctr")).toMatchObject({
    type: "ratio",
    formula: "clicks / impressions",
  });
});

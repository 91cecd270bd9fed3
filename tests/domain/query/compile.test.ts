import { describe, expect, test } from "bun:test";
import { compileQuery, parseQuery } from "../../../src/domain/query/index.ts";

const NOW = Date.UTC(2026, 10, 25, 15, 7, 12);

function compile(input: Record<string, unknown>, useRollups = true) {
  const result = parseQuery(input, { now: NOW });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return compileQuery(result.query, { tenantId: "tenant-1", now: NOW, useRollups });
}

describe("compileQuery", () => {
  test("binds the tenant first, the zone and instants next, limit and offset last", () => {
    const compiled = compile({
      measures: ["clicks"],
      timeDimension: { granularity: "week", dateRange: ["2026-11-02", "2026-11-29"] },
      timezone: "America/New_York",
      limit: 20,
      offset: 40,
    });
    expect(compiled.params).toEqual([
      "tenant-1",
      "america/new_york",
      "2026-11-02T05:00:00.000Z",
      "2026-11-30T05:00:00.000Z",
      20,
      40,
    ]);
    expect(compiled.text).toContain(
      "WHERE f.tenant_id = $1 AND f.bucket >= $3::timestamptz AND f.bucket < $4::timestamptz",
    );
    expect(compiled.text).toContain("GROUP BY date_trunc('week', f.bucket AT TIME ZONE $2)");
    expect(compiled.text).toEndWith("LIMIT $5::bigint OFFSET $6::bigint");
    expect(compiled.columns).toEqual([
      { name: "ts", kind: "time", type: "time" },
      { name: "clicks", kind: "measure", type: "count" },
    ]);
  });

  test("dimension filters go to WHERE, measure filters to HAVING, a mixed top-level and is split", () => {
    const { text, params } = compile({
      measures: ["spend"],
      dimensions: ["channel"],
      filters: [
        {
          and: [
            { member: "channel", operator: "startsWith", values: ["goo_"] },
            { member: "ctr", operator: "gt", values: [0.1] },
          ],
        },
      ],
    });
    expect(text).toContain("WHERE f.tenant_id = $1 AND ((f.channel) ILIKE ANY($2::text[]))");
    expect(text).toContain("HAVING (((coalesce(sum(f.clicks), 0)::bigint)::float8 / NULLIF(");
    expect(text).toContain("> $3::float8)");
    expect(params.slice(1, 3)).toEqual([["goo\\_%"], "0.1"]);
  });

  test("ratios divide by NULLIF(denominator, 0); raw counts filter on the event kind", () => {
    const { text, source } = compile({ measures: ["cpa"] }, false);
    expect(source).toBe("raw");
    expect(text).toContain(
      "(coalesce(sum(f.cost), 0))::float8 / NULLIF((count(*) FILTER (WHERE f.kind = 'conversion'))::float8, 0)",
    );
    expect(text).toContain("FROM ad_events f");
  });

  test("orders as asked, then by every grouped column, so results are deterministic", () => {
    const { text } = compile({
      measures: ["clicks", "spend"],
      dimensions: ["channel", "city"],
      timeDimension: { granularity: "day", dateRange: "last 7 days" },
      order: [
        ["spend", "asc"],
        ["city", "desc"],
      ],
    });
    // Columns: 1 ts, 2 channel, 3 city, 4 clicks, 5 spend; time sorts by its bucket, not its text label.
    expect(text).toContain(
      "ORDER BY 5 ASC NULLS LAST, 3 DESC NULLS LAST, date_trunc('day', f.bucket AT TIME ZONE $2) ASC, 2 ASC",
    );
  });

  test("a negated list keeps rows whose value is null", () => {
    const { text } = compile({
      measures: ["roas"],
      filters: [{ member: "roas", operator: "notEquals", values: [1] }],
    });
    expect(text).toContain(") = ANY($2::text[]::float8[])) IS NOT TRUE");
  });
});

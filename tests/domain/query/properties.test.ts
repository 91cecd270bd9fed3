// Property tests over the schema and the compiler, no database: whatever comes in, parseQuery answers
// without throwing, and whatever it accepts compiles to SQL that holds no caller text and always filters on
// the tenant.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { canonicalQuery, compileQuery, parseQuery, queryHash } from "../../../src/domain/query/index.ts";
import { mutatedQuery, NOW, validQuery } from "./arbitraries.ts";
import { placeholders, vocabularyProblems, whereConjuncts } from "./sql-text.ts";

const TENANT = "tenant-'; DROP TABLE ad_events; --";

function expectWellFormed(result: ReturnType<typeof parseQuery>): void {
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(typeof error.field).toBe("string");
    expect(error.field.length).toBeGreaterThan(0);
    expect(typeof error.message).toBe("string");
    // JSON never reaches the catch-all: every refusal names what is wrong.
    expect(error.message).not.toBe("could not be read as a query");
  }
}

function expectSafeSql(query: Parameters<typeof compileQuery>[0]): void {
  for (const useRollups of [true, false]) {
    const compiled = compileQuery(query, { tenantId: TENANT, now: NOW, useRollups });
    expect(vocabularyProblems(compiled.text)).toEqual([]);
    expect(whereConjuncts(compiled.text)?.[0]).toBe("f.tenant_id = $1");
    expect(compiled.params[0]).toBe(TENANT);
    expect(placeholders(compiled.text)).toEqual(compiled.params.map((_, i) => i + 1));
  }
}

describe("parseQuery never throws", () => {
  test("on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (input) => {
        expectWellFormed(parseQuery(input, { now: NOW }));
      }),
      { numRuns: 400 },
    );
  });

  test("on arbitrary JS values, objects shaped like queries included", () => {
    const queryish = fc.record(
      {
        measures: fc.anything(),
        dimensions: fc.array(fc.anything()),
        filters: fc.array(
          fc.dictionary(fc.constantFrom("member", "operator", "values", "and", "or"), fc.anything()),
        ),
        timeDimension: fc.dictionary(fc.constantFrom("granularity", "dateRange", "dimension"), fc.anything()),
        order: fc.anything(),
        limit: fc.anything(),
        timezone: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), queryish), (input) => {
        const result = parseQuery(input, { now: NOW });
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 400 },
    );
  });

  test("on mutations of valid queries; whatever it accepts compiles to safe SQL", () => {
    let accepted = 0;
    fc.assert(
      fc.property(mutatedQuery, (input) => {
        const result = parseQuery(input, { now: NOW });
        expectWellFormed(result);
        if (result.ok) {
          accepted++;
          expectSafeSql(result.query);
        }
      }),
      { numRuns: 300 },
    );
    // Both sides were exercised: some mutations stay valid (a replaced value of the right type), most do not.
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThan(290);
  });
});

test("the SQL checks catch what they look for", () => {
  const good =
    'SELECT f.channel AS "channel"\nFROM ad_events f\nWHERE f.tenant_id = $1 AND (f.ad) = ANY($2::text[])';
  expect(vocabularyProblems(good)).toEqual([]);
  expect(vocabularyProblems(good.replace("$2", "'x'"))).not.toEqual([]);
  expect(vocabularyProblems(good.replace("f.ad", "f.secret"))).not.toEqual([]);
  expect(vocabularyProblems(`${good}; DROP TABLE x`)).not.toEqual([]);
  expect(whereConjuncts(good)).toEqual(["f.tenant_id = $1", "(f.ad) = ANY($2::text[])"]);
  expect(whereConjuncts(good.replace(" AND ", " OR "))).toBeNull();
  expect(placeholders(good)).toEqual([1, 2]);
});

describe("valid queries", () => {
  test("parse, compile to vocabulary-only SQL with the tenant predicate first, and bind every value", () => {
    fc.assert(
      fc.property(validQuery, (query) => {
        const result = parseQuery(query, { now: NOW });
        if (!result.ok) throw new Error(JSON.stringify(result.errors));
        expectSafeSql(result.query);
      }),
      { numRuns: 300 },
    );
  });

  test("canonicalising is idempotent and the canonical form is itself a valid query", async () => {
    await fc.assert(
      fc.asyncProperty(validQuery, async (query) => {
        const canonical = canonicalQuery(query, NOW);
        const reparsed = parseQuery(JSON.parse(JSON.stringify(canonical)), { now: NOW });
        if (!reparsed.ok) throw new Error(JSON.stringify(reparsed.errors));
        // Later, relative ranges would move; the canonical form's are absolute and stay put.
        const later = NOW + 40 * 86_400_000;
        expect(canonicalQuery(reparsed.query, later)).toEqual(canonical);
        expect((await queryHash(reparsed.query, later)).hash).toBe((await queryHash(query, NOW)).hash);
        // The same wall clock: the minute rollup's window moves with it, by design.
        const fromCanonical = compileQuery(reparsed.query, { tenantId: "t", now: later, clock: NOW });
        expect(fromCanonical).toEqual(compileQuery(query, { tenantId: "t", now: NOW }));
      }),
      { numRuns: 150 },
    );
  });
});

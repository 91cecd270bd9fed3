// Rules a query must follow beyond its shape: something is selected, once; order names selected members;
// the time zone and the date range are real; filters follow filter-rules.ts.
import { isDimension, isMeasure, TIME_DIMENSION } from "./catalogue.ts";
import { resolveDateRange } from "./date-range.ts";
import type { QueryError } from "./errors.ts";
import { checkFilters } from "./filter-rules.ts";
import { LIMITS, type QueryShape, quoteInput } from "./schema.ts";
import { canonicalTimezone } from "./timezone.ts";

function checkDuplicates(members: readonly string[] | undefined, field: string, errors: QueryError[]) {
  const seen = new Set<string>();
  members?.forEach((member, i) => {
    if (seen.has(member)) errors.push({ field: `${field}[${i}]`, message: `"${member}" is listed twice` });
    seen.add(member);
  });
}

/** Order entries with the field each came from. */
export function orderEntries(
  order: QueryShape["order"],
): { member: string; direction: "asc" | "desc"; field: string }[] {
  if (order === undefined) return [];
  if (Array.isArray(order)) {
    return order.map(([member, direction], i) => ({ member, direction, field: `order[${i}][0]` }));
  }
  return Object.entries(order).map(([member, direction]) => ({
    member,
    direction,
    field: /^[A-Za-z_][A-Za-z0-9_]*$/.test(member) ? `order.${member}` : `order[${quoteInput(member)}]`,
  }));
}

function checkOrder(query: QueryShape, errors: QueryError[]): void {
  const entries = orderEntries(query.order);
  if (entries.length > LIMITS.maxOrder) {
    errors.push({ field: "order", message: `at most ${LIMITS.maxOrder} order entries` });
    return;
  }
  const selected = new Set<string>([...(query.measures ?? []), ...(query.dimensions ?? [])]);
  if (query.timeDimension?.granularity) selected.add(TIME_DIMENSION);
  const seen = new Set<string>();
  for (const { member, field } of entries) {
    const known = isMeasure(member) || isDimension(member) || member === TIME_DIMENSION;
    if (!known) errors.push({ field, message: `unknown member ${quoteInput(member)}` });
    else if (!selected.has(member)) {
      errors.push({
        field,
        message:
          member === TIME_DIMENSION
            ? `"${TIME_DIMENSION}" can be ordered by only with a timeDimension granularity`
            : `"${member}" is not selected; add it to ${isMeasure(member) ? "measures" : "dimensions"}`,
      });
    } else if (seen.has(member)) errors.push({ field, message: `"${member}" is ordered by twice` });
    seen.add(member);
  }
}

/** Every rule beyond the shape; `now` resolves relative date ranges (to check they stay in bounds). */
export function checkRules(query: QueryShape, now: number): QueryError[] {
  const errors: QueryError[] = [];
  const selects = (query.measures?.length ?? 0) + (query.dimensions?.length ?? 0);
  if (selects === 0 && !query.timeDimension?.granularity) {
    errors.push({ field: "measures", message: "select at least one measure, dimension or time granularity" });
  }
  checkDuplicates(query.measures, "measures", errors);
  checkDuplicates(query.dimensions, "dimensions", errors);

  const zone = canonicalTimezone(query.timezone ?? "UTC");
  if (zone === null) {
    errors.push({
      field: "timezone",
      message: `unknown time zone ${quoteInput(query.timezone)}; use an IANA name such as "Europe/Paris"`,
    });
  } else if (query.timeDimension) {
    const resolved = resolveDateRange(query.timeDimension.dateRange, zone, now);
    if (!resolved.ok)
      errors.push({ field: `timeDimension.dateRange${resolved.field}`, message: resolved.message });
  }

  checkFilters(query.filters, errors);
  checkOrder(query, errors);
  return errors;
}

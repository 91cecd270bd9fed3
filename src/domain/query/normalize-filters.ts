// One spelling per filter, so the same condition written differently hashes and compiles the same:
// equals → in, notEquals → notIn; value lists sorted and deduplicated (they are sets); numbers as numbers;
// and / or children sorted, duplicates dropped, single-child groups unwrapped, same-kind groups merged.
import { isMeasure } from "./catalogue.ts";
import { numericValue } from "./filter-rules.ts";
import { type FilterLeaf, type FilterNode, type FilterOperator, LIMITS } from "./schema.ts";
import { stableJson } from "./stable-json.ts";

const SYNONYMS: Partial<Record<FilterOperator, FilterOperator>> = { equals: "in", notEquals: "notIn" };
const SINGLE_VALUE: readonly FilterOperator[] = ["gt", "gte", "lt", "lte"];

function normalizeLeaf(leaf: FilterLeaf): FilterLeaf {
  const operator = SYNONYMS[leaf.operator] ?? leaf.operator;
  if (operator === "set" || operator === "notSet") return { member: leaf.member, operator };
  const raw = leaf.values ?? [];
  if (isMeasure(leaf.member)) {
    const numbers = raw.map((v) => numericValue(v) ?? Number.NaN);
    const values = SINGLE_VALUE.includes(operator) ? numbers : [...new Set(numbers)].sort((a, b) => a - b);
    return { member: leaf.member, operator, values };
  }
  const strings = raw.map(String);
  return { member: leaf.member, operator, values: [...new Set(strings)].sort() };
}

function sortedUnique(nodes: FilterNode[]): FilterNode[] {
  const byText = new Map<string, FilterNode>();
  for (const node of nodes) byText.set(stableJson(node), node);
  return [...byText.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, node]) => node);
}

/** Children of a group, with children of the same kind merged in while the group stays within bounds. */
function mergeSameKind(kind: "and" | "or", children: FilterNode[]): FilterNode[] {
  const merged: FilterNode[] = [];
  for (const child of children) {
    const grandchildren =
      kind === "and" && "and" in child ? child.and : kind === "or" && "or" in child ? child.or : null;
    if (grandchildren) merged.push(...grandchildren);
    else merged.push(child);
  }
  return merged.length <= LIMITS.maxFilters ? merged : children;
}

export function normalizeFilter(node: FilterNode): FilterNode {
  if ("member" in node) return normalizeLeaf(node);
  const [kind, rawChildren] = "and" in node ? (["and", node.and] as const) : (["or", node.or] as const);
  const children = sortedUnique(mergeSameKind(kind, rawChildren.map(normalizeFilter)));
  if (children.length === 1 && children[0]) return children[0];
  return kind === "and" ? { and: children } : { or: children };
}

/** The top-level list is an implicit `and`: its items are normalised, sorted and deduplicated the same way. */
export function normalizeFilters(filters: readonly FilterNode[] | undefined): FilterNode[] {
  return sortedUnique(mergeSameKind("and", (filters ?? []).map(normalizeFilter)));
}

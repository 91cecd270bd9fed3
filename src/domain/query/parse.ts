// parseQuery: untrusted input → a valid semantic query, or errors naming each field. Never throws.
import { formatIssues, MAX_ERRORS, type QueryError } from "./errors.ts";
import { checkRules } from "./rules.ts";
import { type Query, querySchema } from "./schema.ts";

export type ParseResult = { ok: true; query: Query } | { ok: false; errors: QueryError[] };

/** Bounds on raw input, checked before the schema sees it: the largest valid query is far below them. */
const INPUT_BOUNDS = { maxNodes: 5_000, maxDepth: 24, maxStringLength: 4_096 } as const;

/**
 * Walks the input without recursion and stops early, so a deep, huge or cyclic value costs little and
 * cannot overflow the stack in the schema's recursive filters.
 */
function inputTooLarge(input: unknown): string | null {
  const stack: [unknown, number][] = [[input, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (++nodes > INPUT_BOUNDS.maxNodes) return `more than ${INPUT_BOUNDS.maxNodes} values`;
    if (typeof value === "string" && value.length > INPUT_BOUNDS.maxStringLength) {
      return `a string longer than ${INPUT_BOUNDS.maxStringLength} characters`;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth >= INPUT_BOUNDS.maxDepth) return `nested deeper than ${INPUT_BOUNDS.maxDepth} levels`;
    const children = Array.isArray(value) ? value : Object.values(value);
    if (children.length > INPUT_BOUNDS.maxNodes) return `more than ${INPUT_BOUNDS.maxNodes} values`;
    for (const child of children) stack.push([child, depth + 1]);
  }
  return null;
}

export interface ParseOptions {
  /** The instant relative date ranges are checked against (epoch ms). Default: the current time. */
  now?: number;
}

/**
 * Validates a semantic query.
 *
 * @example
 * const parsed = parseQuery(await request.json());
 * if (!parsed.ok) return c.json({ error: { code: "invalid_query", details: parsed.errors } }, 400);
 */
export function parseQuery(input: unknown, options: ParseOptions = {}): ParseResult {
  try {
    const tooLarge = inputTooLarge(input);
    if (tooLarge) return { ok: false, errors: [{ field: "query", message: `too large: ${tooLarge}` }] };
    const shape = querySchema.safeParse(input, { reportInput: true });
    if (!shape.success) return { ok: false, errors: formatIssues(shape.error.issues) };
    const errors = checkRules(shape.data, options.now ?? Date.now());
    if (errors.length > 0) return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
    return { ok: true, query: shape.data };
  } catch {
    // Only exotic values get here (a getter that throws, a revoked proxy): JSON never does.
    return { ok: false, errors: [{ field: "query", message: "could not be read as a query" }] };
  }
}

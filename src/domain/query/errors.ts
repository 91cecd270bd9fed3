// Validation errors as the API shows them: one `{field, message}` per problem, the field a path such as
// `filters[2].values[0]`.
import type { z } from "zod";

export interface QueryError {
  /** Where the problem is, e.g. `filters[2].values[0]`; `query` for the query as a whole. */
  field: string;
  message: string;
}

/** At most this many errors are reported; the rest are usually consequences of the first. */
export const MAX_ERRORS = 20;

type Path = readonly PropertyKey[];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `["filters", 2, "values", 0]` → `filters[2].values[0]`. */
export function formatPath(path: Path): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else {
      const key = String(segment);
      if (IDENTIFIER.test(key)) text += text === "" ? key : `.${key}`;
      else text += `[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)}]`;
    }
  }
  return text === "" ? "query" : text;
}

type Issue = z.core.$ZodIssue;

/** The branch did not even have the right type (an array where an object was expected). */
function isWrongType(issue: Issue): boolean {
  return issue.path.length === 0 && issue.code === "invalid_type";
}

function strayKeys(issues: Issue[]): number {
  return issues.reduce(
    (n, issue) => n + (issue.code === "unrecognized_keys" && issue.path.length === 0 ? issue.keys.length : 0),
    0,
  );
}

/**
 * The branch of a failed union the caller most likely meant: of the branches whose type matched, the one that
 * knows the most of the input's keys, then the one with the fewest issues. None when no branch fits at all
 * (wrong type everywhere, or an object none of whose keys any branch knows).
 */
function likelyBranch(branches: Issue[][], input: unknown): Issue[] | undefined {
  const typed = branches.filter((issues) => !issues.some(isWrongType));
  if (typed.length <= 1 || typeof input !== "object" || input === null || Array.isArray(input)) {
    return typed.sort((a, b) => a.length - b.length)[0];
  }
  const keys = Object.keys(input).length;
  const ranked = typed
    .map((issues) => ({ issues, known: keys - strayKeys(issues) }))
    .sort((a, b) => b.known - a.known || a.issues.length - b.issues.length);
  return ranked[0] && ranked[0].known > 0 ? ranked[0].issues : undefined;
}

function flatten(issue: Issue, base: Path, out: QueryError[]): void {
  const path = [...base, ...issue.path];
  if (issue.code === "invalid_union" && "errors" in issue && Array.isArray(issue.errors)) {
    const branch = likelyBranch(issue.errors as Issue[][], (issue as { input?: unknown }).input);
    if (branch) {
      for (const inner of branch) flatten(inner, path, out);
      return;
    }
  }
  if (issue.code === "unrecognized_keys") {
    for (const key of issue.keys) out.push({ field: formatPath([...path, key]), message: "unknown field" });
    return;
  }
  out.push({ field: formatPath(path), message: issue.message });
}

/** zod issues → API errors, unions resolved to the branch the caller meant. */
export function formatIssues(issues: readonly Issue[]): QueryError[] {
  const out: QueryError[] = [];
  for (const issue of issues) flatten(issue, [], out);
  return out.slice(0, MAX_ERRORS);
}

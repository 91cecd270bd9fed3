// Checks on compiled SQL text that hold for every query: it is built from a fixed vocabulary only (so no
// caller text can be in it), it always filters on the tenant first, and its placeholders match its params.
import { DIMENSIONS, MEASURES } from "../../../src/domain/query/index.ts";

const LITERALS = [
  "'impression'",
  "'view'",
  "'click'",
  "'conversion'",
  "'minute'",
  "'hour'",
  "'day'",
  "'week'",
  "'month'",
  `'YYYY-MM-DD"T"HH24:MI:SS.MS'`,
];
const ALIASES = [...MEASURES, ...DIMENSIONS, "ts"].map((name) => `"${name}"`);
const WORDS = new Set(
  [
    "SELECT AS FROM WHERE AND OR GROUP BY HAVING ORDER ASC DESC NULLS LAST LIMIT OFFSET ANY IS NOT TRUE NULL",
    "ILIKE FILTER AT TIME ZONE count sum coalesce NULLIF date_trunc to_char bigint float8 numeric text timestamptz",
    "f tenant_id ts bucket kind cost ad_events ad_rollup_minute ad_rollup_hour ad_rollup_day ad_rollup_day_campaign",
    [...MEASURES, ...DIMENSIONS].join(" "),
  ]
    .join(" ")
    .split(" "),
);

/** Problems with a compiled statement's text; empty when it is built from the vocabulary alone. */
export function vocabularyProblems(text: string): string[] {
  let rest = text.replace(/\$\d+/g, " ");
  for (const literal of [...LITERALS, ...ALIASES]) rest = rest.replaceAll(literal, " ");
  const problems: string[] = [];
  if (/['"`;\\]|--|\/\*/.test(rest)) problems.push(`quote, comment or semicolon left in: ${rest}`);
  for (const word of rest.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (!WORDS.has(word)) problems.push(`unexpected word ${JSON.stringify(word)}`);
  }
  const other = rest.replace(/[A-Za-z0-9_\s(),.=<>*:[\]/%-]/g, "");
  if (other !== "") problems.push(`unexpected characters ${JSON.stringify(other)}`);
  return problems;
}

/** The WHERE clause's top-level conjuncts (split on AND outside parentheses), or null if one has an OR. */
export function whereConjuncts(text: string): string[] | null {
  const match = /\nWHERE (.*)\n?/.exec(text);
  if (!match?.[1]) return null;
  const where = match[1];
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < where.length; i++) {
    const ch = where[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0 && where.startsWith(" AND ", i)) {
      parts.push(where.slice(start, i));
      start = i + 5;
    } else if (depth === 0 && where.startsWith(" OR ", i)) return null;
  }
  parts.push(where.slice(start));
  return parts;
}

/** Placeholders used in the text, as numbers, sorted and deduplicated. */
export function placeholders(text: string): number[] {
  return [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

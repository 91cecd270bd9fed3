// Command-line options and the number formats of the bench reports.

/** The value after `--name` in the arguments, if given. */
export function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

/** A whole count with thousands separators: 12,345. */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A ratio as a percentage with one decimal: 0.253 → 25.3%. */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** A database URL without its credentials: host:port/name. */
export function describeDatabase(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

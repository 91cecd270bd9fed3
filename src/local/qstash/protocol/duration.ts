const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a QStash duration into milliseconds: `10s`, `1d10h30m`, `1.5h`, `500ms`; a bare number means seconds.
 * Returns undefined for anything else (negative, empty, unknown unit).
 *
 * @example parseDuration("1d10h30m") === 124_200_000
 */
export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(input)) return Math.round(Number(input) * 1000);
  if (input === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const match = PART.exec(input);
    if (match === null) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return Math.round(total);
}

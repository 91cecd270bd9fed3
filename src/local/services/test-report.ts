// Reading `bun test` results: counts from its summary, failing test names from its JUnit file.

export interface BunTestCounts {
  passed: number;
  failed: number;
}

/**
 * The counts from bun's closing summary (" 12 pass", " 1 fail"). Its fail count includes errors outside any test
 * (a file that throws while loading), which the JUnit file leaves out; undefined when no summary was printed.
 */
export function parseBunSummary(output: string): BunTestCounts | undefined {
  const passed = lastCount(output, "pass");
  const failed = lastCount(output, "fail");
  if (passed === undefined && failed === undefined) return undefined;
  return { passed: passed ?? 0, failed: failed ?? 0 };
}

function lastCount(output: string, word: string): number | undefined {
  const matches = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\s*$`, "gm"))];
  const last = matches.at(-1);
  return last ? Number(last[1]) : undefined;
}

/** `file > test name` for every failed test case in a JUnit XML report. */
export function failedTestNames(junitXml: string): string[] {
  const names: string[] = [];
  for (const match of junitXml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[3] ?? "";
    if (!/<(failure|error)\b/.test(body)) continue;
    const attributes = match[1] ?? "";
    const name = decodeXml(/\bname="([^"]*)"/.exec(attributes)?.[1] ?? "?");
    const file = decodeXml(/\bfile="([^"]*)"/.exec(attributes)?.[1] ?? "?");
    const group = decodeXml(/\bclassname="([^"]*)"/.exec(attributes)?.[1] ?? "");
    names.push(`${file} > ${group ? `${group} > ` : ""}${name}`);
  }
  return names;
}

function decodeXml(text: string): string {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replaceAll("&amp;", "&");
}

export interface StepResult {
  name: string;
  ok: boolean;
}

/** The runner's last line: each check (type-check, lint, …) counts as one test, plus bun's own counts. */
export function summaryLine(steps: readonly StepResult[], bun: BunTestCounts): string {
  const passed = steps.filter((step) => step.ok).length + bun.passed;
  const failed = steps.filter((step) => !step.ok).length + bun.failed;
  return `${passed} passed, ${failed} failed`;
}

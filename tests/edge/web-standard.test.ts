import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./support/stack.ts";

// The edge runs on Workers: it may import only these (plus its own files and src/domain).
const ALLOWED_PACKAGES = [/^hono(\/|$)/, /^@hono\//, /^@upstash\//, /^zod(\/|$)/];
const ALLOWED_RELATIVE = /^\.{1,2}\//;
// Each runtime's starter may use that runtime's globals; nothing else may.
const STARTERS: Record<string, RegExp | undefined> = {
  "src/edge/bun.ts": /\b(Bun|process)\./,
  "src/edge/deno.ts": /\bDeno\./,
};
const RUNTIME_GLOBALS = /\b(Bun|Deno|process|require)\s*[.(]/;

function edgeFiles(dir = join(REPO_ROOT, "src/edge")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? edgeFiles(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

function importsOf(source: string): string[] {
  return [
    ...source.matchAll(
      /(?:^|\n)\s*(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']/g,
    ),
  ].map((match) => (match[1] ?? match[2]) as string);
}

test("the edge imports nothing runtime-specific (no node:*, bun:*, postgres, warehouse or local stack)", () => {
  const offences: string[] = [];
  for (const file of edgeFiles()) {
    const name = relative(REPO_ROOT, file);
    for (const specifier of importsOf(readFileSync(file, "utf8"))) {
      const relativeOk = ALLOWED_RELATIVE.test(specifier) && !/\/(warehouse|local|cli)\//.test(specifier);
      const packageOk = ALLOWED_PACKAGES.some((allowed) => allowed.test(specifier));
      if (!relativeOk && !packageOk) offences.push(`${name} imports ${specifier}`);
    }
  }
  expect(offences).toEqual([]);
});

test("only the runtime starters touch runtime globals", () => {
  const offences: string[] = [];
  for (const file of edgeFiles()) {
    const name = relative(REPO_ROOT, file);
    const code = readFileSync(file, "utf8").replace(/\/\/.*$/gm, "");
    const allowed = STARTERS[name];
    const stripped = allowed ? code.replace(new RegExp(allowed.source, "g"), "") : code;
    if (RUNTIME_GLOBALS.test(stripped)) offences.push(name);
  }
  expect(offences).toEqual([]);
});

test("the checker itself sees imports", () => {
  expect(
    importsOf('import { a } from "node:fs";\nexport { b } from "./b.ts";\nawait import("bun:sqlite");'),
  ).toEqual(["node:fs", "./b.ts", "bun:sqlite"]);
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The committed migrations must describe src/warehouse/schema.ts exactly. drizzle-kit has no "check only"
// mode and exits 0 even on errors, so run `generate` against a copy of migrations/ and look at what it wrote.
const repo = resolve(import.meta.dir, "../..");
const drizzleKit = join(repo, "node_modules/.bin/drizzle-kit");
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "fairway-drift-"));
  // The schema copy used by the control below must resolve drizzle-orm from here.
  symlinkSync(join(repo, "node_modules"), join(work, "node_modules"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `drizzle-kit generate` on a fresh copy of migrations/; returns its output and the files it added. */
function generateAgainstCopy(schemaPath: string, name: string): { output: string; added: string[] } {
  const out = join(work, name);
  cpSync(join(repo, "migrations"), out, { recursive: true });
  const before = new Set(readdirSync(out, { recursive: true }).map(String));
  // drizzle-kit mangles an absolute --out, so run it from the work dir with a relative one.
  const proc = Bun.spawnSync(
    [drizzleKit, "generate", "--dialect", "postgresql", "--schema", schemaPath, "--out", `./${name}`],
    { cwd: work, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000 },
  );
  const output = `${proc.stdout.toString()}${proc.stderr.toString()}`;
  const added = readdirSync(out, { recursive: true })
    .map(String)
    .filter((f) => !before.has(f));
  return { output, added };
}

describe("committed migrations", () => {
  test("are not stale against schema.ts", () => {
    const { output, added } = generateAgainstCopy(join(repo, "src/warehouse/schema.ts"), "current");
    expect(added).toEqual([]);
    expect(output).toContain("No schema changes");
  });

  test("control: a schema change is detected by the same check", () => {
    const changed = join(work, "schema-changed.ts");
    const probe =
      '\nexport const driftProbe = pgTable("drift_probe", { tenantId: text("tenant_id").primaryKey() });\n';
    writeFileSync(changed, readFileSync(join(repo, "src/warehouse/schema.ts"), "utf8") + probe);
    const { output, added } = generateAgainstCopy(changed, "changed");
    expect(output).not.toContain("No schema changes");
    const sqlFile = added.find((f) => f.endsWith(".sql"));
    expect(sqlFile).toBeDefined();
    expect(readFileSync(join(work, "changed", sqlFile as string), "utf8")).toContain(
      'CREATE TABLE "drift_probe"',
    );
  });
});

// `npm test`: makes sure Redis and Postgres are reachable, migrates a separate `fairway_test` database,
// type-checks, lints, runs `bun test`, and ends with one line: `N passed, N failed`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../local/services/dev-stack.ts";
import { resolveServices, type Services } from "../local/services/index.ts";
import {
  type BunTestCounts,
  failedTestNames,
  parseBunSummary,
  type StepResult,
  summaryLine,
} from "../local/services/test-report.ts";
import { describeDatabaseUrl } from "../warehouse/database.ts";
import { migrate } from "../warehouse/migrate.ts";

const started = performance.now();
const stateDir = resolve(REPO_ROOT, process.env.FAIRWAY_STATE_DIR || ".fairway");
const bin = (name: string) => join(REPO_ROOT, "node_modules/.bin", name);
const say = (line: string) => console.log(`fairway test: ${line}`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const steps: StepResult[] = [];
let bunCounts: BunTestCounts = { passed: 0, failed: 0 };
let services: Services | undefined;

// Ctrl-C: let the children die with the terminal's signal, then stop what we started (PGlite, redis-server).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await services?.stop();
    process.exit(130);
  });
}

try {
  const runId = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  say(`run ${runId}`);
  services = await resolveServices({
    database: "fairway_test",
    stateDir,
    // The test database starts empty every run when it is embedded; a server keeps its own fairway_test.
    pgliteDataDir: null,
  });
  say(`redis ${services.redisUrl} (${services.sources.redis})`);
  say(`postgres ${services.databaseUrl} (${services.backend}, pool ${services.poolMax})`);

  const migrated = await runStep("migrate", async () => {
    const result = await migrate(services?.databaseUrl as string);
    const what = result.applied.length > 0 ? `applied ${result.applied.join(", ")}` : "up to date";
    return `${describeDatabaseUrl(services?.databaseUrl as string)}: ${what}`;
  });

  await runStep("type-check", async () => {
    await command([bin("tsc"), "--noEmit"]);
    if (existsSync(join(REPO_ROOT, "tsconfig.edge.json"))) {
      await command([bin("tsc"), "--noEmit", "-p", "tsconfig.edge.json"]);
    }
    return "tsc --noEmit, and the edge against Workers types";
  });
  await runStep("lint", async () => {
    await command([bin("biome"), "check", "--colors=off", "."]);
    return "biome check .";
  });

  if (migrated) {
    bunCounts = await runBunTest(services, runId, process.argv.slice(2));
  } else {
    say("bun test skipped: the test database could not be migrated");
  }
} catch (error) {
  say((error as Error).message);
  steps.push({ name: "services", ok: false });
} finally {
  await services?.stop();
}

const line = summaryLine(steps, bunCounts);
say(`finished in ${seconds(started)}`);
console.log(line);
process.exit(line.endsWith(" 0 failed") ? 0 : 1);

/** Runs one check, counted as one test; its output is shown only when it fails. */
async function runStep(name: string, run: () => Promise<string>): Promise<boolean> {
  const stepStarted = performance.now();
  try {
    const detail = await run();
    say(`${name} ok (${seconds(stepStarted)}): ${detail}`);
    steps.push({ name, ok: true });
    return true;
  } catch (error) {
    say(`${name} FAILED (${seconds(stepStarted)})`);
    console.log(clip((error as Error).message, 150));
    steps.push({ name, ok: false });
    return false;
  }
}

/** The first `maxLines` lines, saying how many were left out. */
function clip(text: string, maxLines: number): string {
  const lines = text.split("\n");
  if (lines.length <= maxLines) return text;
  return [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines`].join("\n");
}

/** Runs a program to completion; rejects with its combined output when it exits non-zero. */
function command(argv: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const [program, ...args] = argv;
    const child = spawn(program as string, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolveRun();
      else
        reject(
          new Error(`${argv.map((a) => a.replace(`${REPO_ROOT}/`, "")).join(" ")} exited ${code}\n${output}`),
        );
    });
  });
}

/**
 * Integration tests start servers and child processes; bun's default of 5 s per test is too tight for that on a
 * busy 2-core machine, and bun 1.4 ignores `timeout` in bunfig.toml, so the runner passes it (unless asked not to).
 */
function timeoutArgs(extraArgs: string[]): string[] {
  return extraArgs.some((arg) => arg.startsWith("--timeout")) ? [] : ["--timeout=30000"];
}

/** `bun test` with the services exported, its output streamed through; counts come from its summary. */
async function runBunTest(found: Services, runId: string, extraArgs: string[]): Promise<BunTestCounts> {
  mkdirSync(stateDir, { recursive: true });
  const junitFile = join(stateDir, "test-results.xml");
  rmSync(junitFile, { force: true });
  say(`bun test${extraArgs.length > 0 ? ` ${extraArgs.join(" ")}` : ""}`);
  const testStarted = performance.now();
  const child = spawn(
    process.execPath,
    ["test", ...timeoutArgs(extraArgs), "--reporter=junit", `--reporter-outfile=${junitFile}`, ...extraArgs],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        REDIS_URL: found.redisUrl,
        DATABASE_URL: found.databaseUrl,
        DATABASE_POOL_MAX: String(found.poolMax),
        FAIRWAY_DB_BACKEND: found.backend,
        // Tests prefix the Redis keys they create with this, so runs sharing a Redis never collide.
        FAIRWAY_TEST_RUN: runId,
      },
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk;
    process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((done) => child.once("close", (exitCode) => done(exitCode)));

  const counts = parseBunSummary(output) ?? { passed: 0, failed: 0 };
  // A crash or a non-zero exit without a counted failure still fails the run.
  if (code !== 0 && counts.failed === 0) {
    say(`bun test exited with code ${code} without reporting a failure; counting it as one`);
    counts.failed = 1;
  }
  if (existsSync(junitFile)) {
    const failed = failedTestNames(readFileSync(junitFile, "utf8"));
    if (failed.length > 0) say(`failed tests:\n  ${failed.join("\n  ")}`);
  }
  say(`bun test: ${counts.passed} passed, ${counts.failed} failed (${seconds(testStarted)})`);
  return counts;
}

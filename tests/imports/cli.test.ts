// `npm run import`: uploads a file to a real edge over HTTP, follows it to the end, prints the report, and
// exits 0 (completed, with or without rejected rows), 1 (failed) or 2 (refused or bad usage).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ImportStack, makeCsv, startImportStack } from "./support.ts";

const CLI = fileURLToPath(new URL("../../src/cli/import.ts", import.meta.url));
let stack: ImportStack;
let server: ReturnType<typeof Bun.serve>;
let key: string;
const files: string[] = [];

beforeAll(async () => {
  stack = await startImportStack();
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => stack.app.fetch(request) });
  key = (await stack.createTenant()).apiKey;
});

afterAll(async () => {
  server?.stop(true);
  await stack?.stop();
  for (const file of files) rmSync(file, { force: true });
});

function file(name: string, text: string): string {
  const path = join(tmpdir(), `fairway-cli-${stack.run}-${name}`);
  writeFileSync(path, text);
  files.push(path);
  return path;
}

async function runCli(...args: string[]) {
  const child = Bun.spawn([process.execPath, CLI, ...args, "--edge", `http://127.0.0.1:${server.port}`], {
    env: { ...process.env, FAIRWAY_STATE_DIR: join(tmpdir(), "no-dev-stack-here") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code };
}

test("imports a file, reports the counts and the first errors, exits 0", async () => {
  const { text } = makeCsv(3_000, 100, 4);
  const result = await runCli(file("ok.csv", text), "--tenant-key", key, "--import-id", "cli-1");
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("import cli-1: completed_with_errors");
  expect(result.stdout).toContain("2,970 accepted, 30 rejected");
  expect(result.stdout).toMatch(/line 101 \(country\): /);
  expect(result.stderr).toContain("uploaded");

  const again = await runCli(file("ok.csv", text), "--tenant-key", key, "--import-id", "cli-1");
  expect(again.code).toBe(0);
  expect(again.stderr).toContain("had already finished; nothing was added");
}, 60_000);

test("gzip on the way; a failed import exits 1; a refused file exits 2", async () => {
  const { text } = makeCsv(1_000, 100, 5);
  const gz = await runCli(file("gz.csv", text), "--tenant-key", key, "--gzip", "--max-reject-ratio", "0");
  expect(gz.code).toBe(1);
  expect(gz.stdout).toContain(": failed");

  const refused = await runCli(file("bad.csv", "just,some,words\n1,2,3\n"), "--tenant-key", key);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain("refused (400)");
  expect(refused.stderr).toContain("header");

  const usage = await runCli("--tenant-key", key);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain("usage: npm run import");
}, 60_000);

// The edge hashes queries on Workers, Deno or Bun, and the actor compiles them on Bun: the hash and the SQL
// must not depend on the JavaScript engine (V8 and JavaScriptCore differ in their time zone data handling).
import { expect, test } from "bun:test";
import { join } from "node:path";
import fc from "fast-check";
import { compileQuery, type Query, queryHash } from "../../../src/domain/query/index.ts";
import { NOW, validQuery } from "./arbitraries.ts";

const REPO_ROOT = join(import.meta.dir, "../../..");

test("V8 (Deno) and JavaScriptCore (Bun) give the same hash, SQL and source", async () => {
  const zones = ["Asia/Kolkata", "asia/calcutta", "EST5EDT", "US/Eastern", "Etc/UTC", "Europe/Kyiv"];
  const queries: Query[] = [
    ...(zones.map((timezone) => ({
      measures: ["clicks"],
      timeDimension: { granularity: "day", dateRange: "last 7 days" },
      timezone,
    })) as Query[]),
    ...fc.sample(validQuery, { numRuns: 40, seed: 42 }),
  ];
  const here = [];
  for (const query of queries) {
    const { hash } = await queryHash(query, NOW);
    here.push({ hash, ...compileQuery(query, { tenantId: "t", now: NOW }) });
  }
  const child = Bun.spawn(
    [
      join(REPO_ROOT, "node_modules/.bin/deno"),
      "run",
      "--node-modules-dir=manual",
      "--no-prompt",
      "--allow-read",
      "--allow-env",
      "tests/domain/query/v8-compile.deno.ts",
      JSON.stringify({ queries, now: NOW }),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
  expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(here)));
});

import { describe, expect, test } from "bun:test";
import { failedTestNames, parseBunSummary, summaryLine } from "../../../src/local/services/test-report.ts";

// The tail of a real `bun test` run with a failing test, a skipped one and a file that threw while loading.
const BUN_OUTPUT = `
(pass) readEdgeConfig > reads the URLs [0.29ms]
(fail) fails [0.20ms]
# Unhandled error between tests
error: load error

 4 pass
 1 skip
 1 todo
 2 fail
 1 error
 4 expect() calls
Ran 8 tests across 3 files. [10.00ms]
`;

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="3" failures="1" skipped="1">
  <testsuite name="tests/a.test.ts" file="tests/a.test.ts" tests="3" failures="1" skipped="1">
    <testcase name="fails &amp; &quot;quotes&quot;" classname="group" file="tests/a.test.ts" line="2" assertions="1">
      <failure type="AssertionError" message="expect(received).toBe(expected)">AssertionError</failure>
    </testcase>
    <testcase name="skipped" classname="" file="tests/a.test.ts" line="3" assertions="0">
      <skipped />
    </testcase>
    <testcase name="passes" classname="" file="tests/a.test.ts" line="5" assertions="0" />
  </testsuite>
</testsuites>`;

describe("parseBunSummary", () => {
  test("takes pass and fail from the closing summary; errors outside tests are in the fail count", () => {
    expect(parseBunSummary(BUN_OUTPUT)).toEqual({ passed: 4, failed: 2 });
  });

  test("a test named like a summary line does not fool it: the last one wins", () => {
    expect(parseBunSummary(" 99 pass\nlater output\n 3 pass\n 0 fail\n")).toEqual({ passed: 3, failed: 0 });
  });

  test("no summary at all (bun crashed) is undefined", () => {
    expect(parseBunSummary("Segmentation fault\n")).toBeUndefined();
  });
});

test("failedTestNames lists failed cases only, with file and group, entities decoded", () => {
  expect(failedTestNames(JUNIT)).toEqual(['tests/a.test.ts > group > fails & "quotes"']);
});

test("summaryLine counts each check as one test", () => {
  const steps = [
    { name: "type-check", ok: true },
    { name: "lint", ok: false },
  ];
  expect(summaryLine(steps, { passed: 10, failed: 2 })).toBe("11 passed, 3 failed");
});

import { expect, test } from "bun:test";
import { join } from "node:path";
import { freePort } from "../../../src/local/services/ports.ts";
import { startChild } from "../../../src/local/services/supervisor.ts";
import { describeRuntime } from "../support/runtime.ts";
import { REPO_ROOT } from "../support/stack.ts";

// wrangler would otherwise reach out to the network: usage metrics, error reports, the update check in its
// banner and the `Request.cf` download. Here it must run offline.
const OFFLINE = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
  NO_COLOR: "1",
};

describeRuntime(
  "workerd",
  async ({ port, edgeEnv }) =>
    startChild({
      name: "edge-workerd",
      command: [
        join(REPO_ROOT, "node_modules/.bin/wrangler"),
        "dev",
        "--port",
        String(port),
        "--ip",
        "127.0.0.1",
        "--inspector-port",
        String(await freePort()),
        "--show-interactive-dev-session=false",
        "--persist-to",
        join(REPO_ROOT, ".wrangler/test-state"),
        ...Object.entries(edgeEnv).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
      ],
      cwd: REPO_ROOT,
      env: OFFLINE,
      ready: /Ready on (http\S+)/,
      readyTimeoutMs: 45_000,
      // wrangler starts workerd (and esbuild) itself: stop the whole group.
      ownGroup: true,
      log: () => {},
    }),
  (server) => {
    test("wrangler stayed offline: no failed look-ups or update notices in its output", () => {
      const output = server().recentOutput().join("\n");
      expect(output).not.toMatch(/ENOTFOUND|Request\.cf|update available|metrics/i);
    });
  },
);

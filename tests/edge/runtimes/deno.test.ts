import { join } from "node:path";
import { startChild } from "../../../src/local/services/supervisor.ts";
import { describeRuntime } from "../support/runtime.ts";
import { REPO_ROOT } from "../support/stack.ts";

describeRuntime("Deno", ({ port, edgeEnv }) =>
  startChild({
    name: "edge-deno",
    command: [
      join(REPO_ROOT, "node_modules/.bin/deno"),
      "run",
      "--node-modules-dir=manual",
      "--no-prompt",
      "-A",
      "src/edge/deno.ts",
    ],
    cwd: REPO_ROOT,
    // Deno must not try to fetch anything or print upgrade notices.
    env: { ...edgeEnv, PORT: String(port), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    readyTimeoutMs: 30_000,
    log: () => {},
  }),
);

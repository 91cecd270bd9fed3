import { startChild } from "../../../src/local/services/supervisor.ts";
import { describeRuntime } from "../support/runtime.ts";
import { REPO_ROOT } from "../support/stack.ts";

describeRuntime("Bun", ({ port, edgeEnv }) =>
  startChild({
    name: "edge-bun",
    command: [process.execPath, "src/edge/bun.ts"],
    cwd: REPO_ROOT,
    env: { ...edgeEnv, PORT: String(port) },
    log: () => {},
  }),
);

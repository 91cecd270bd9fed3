// `npm run dev`: starts the whole local stack in the foreground, prints where everything is, writes
// .fairway/dev.json, and stops every child cleanly on Ctrl-C.
import { resolve } from "node:path";
import { startDemoEvents } from "../local/generator/demo.ts";
import { devFilePath, removeDevFile, writeDevFile } from "../local/services/dev-file.ts";
import { DevStack } from "../local/services/dev-stack.ts";
import { ServiceUnavailableError } from "../local/services/errors.ts";
import { describeExit } from "../local/services/supervisor.ts";

const stateDir = resolve(process.env.FAIRWAY_STATE_DIR || ".fairway");
const devFile = devFilePath(stateDir);
const say = (line: string) => console.log(`fairway: ${line}`);

let shuttingDown: Promise<never> | undefined;
let shutdownStartedAt = 0;
// One Ctrl-C can arrive twice (from the terminal to the whole process group, and forwarded by npm);
// only a second signal after this long means "stop now".
const REPEAT_SIGNAL_MS = 1000;

const stack = new DevStack({
  stateDir,
  log: say,
  onUnexpectedExit(child, exit) {
    // Ctrl-C reaches the children too (same process group), and one may exit before our own handler runs:
    // give the signal a moment to arrive before calling this a crash.
    setTimeout(() => {
      if (shuttingDown) return;
      say(`${child.name} exited on its own (${describeExit(exit)}); stopping the stack`);
      const output = child.recentOutput().slice(-10);
      if (output.length > 0) console.log(`  last output of ${child.name}:\n    ${output.join("\n    ")}`);
      void shutdown(1);
    }, 200);
  },
});

/** Stops children newest first, then what services started; a second Ctrl-C skips the wait. */
function shutdown(code: number, bySignal = false): Promise<never> {
  if (shuttingDown) {
    if (bySignal && performance.now() - shutdownStartedAt > REPEAT_SIGNAL_MS) {
      say("stopping now");
      stack.kill();
      process.exit(130);
    }
    return shuttingDown;
  }
  shutdownStartedAt = performance.now();
  shuttingDown = (async () => {
    say("stopping…");
    try {
      await stack.stop();
    } finally {
      removeDevFile(devFile);
    }
    say("stopped");
    process.exit(code);
  })();
  return shuttingDown;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => void shutdown(0, true));
}

try {
  const started = performance.now();
  const info = await stack.start();
  if (shuttingDown) await shuttingDown;
  writeDevFile(devFile, info);
  const found = stack.describeServices();
  const rows: [string, string, string][] = [
    ["edge", info.edge.url, "GET /health"],
    ["redis-rest", info.redisRest.url, "Upstash Redis REST; token in dev.json"],
    ["qstash", info.qstash?.url ?? "(not built yet)", info.qstash ? "QStash v2; local dev credentials" : ""],
    ["actors", info.actors?.url ?? "(not built yet)", info.actors ? "POST /actors/<name>" : ""],
    [
      "mockstagram",
      info.mockstagram?.url ?? "(not built yet)",
      info.mockstagram ? "GET /api/v1/influencers/:id (mock provider)" : "",
    ],
    ["redis", info.redis.url, found?.redis ?? ""],
    ["postgres", info.postgres.url, found?.postgres ?? ""],
    ["demo", info.demo?.tenantId ?? "(no tenant)", info.demo ? "API key in dev.json (demo.apiKey)" : ""],
  ];
  const width = Math.max(...rows.map(([, url]) => url.length));
  console.log("");
  console.log(
    `  Fairway dev stack is up (${Math.round(performance.now() - started)} ms). Ctrl-C stops everything.`,
  );
  console.log("");
  for (const [name, url, note] of rows) console.log(`  ${name.padEnd(11)} ${url.padEnd(width)}  ${note}`);
  console.log("");
  console.log(`  URLs and tokens: ${devFile}`);
  if (info.demo) {
    console.log(
      `  Try: curl -H "Authorization: Bearer $(jq -r .demo.apiKey ${devFile})" ${info.edge.url}/v1/meta`,
    );
  }
  console.log("");
  await reportHealth(info.edge.url);
  say(`stack ready ${info.edge.url}`);
  // Opt-in live traffic for the demo tenant (src/local/generator/demo.ts).
  if (process.env.FAIRWAY_DEMO_EVENTS === "1" && info.demo) {
    startDemoEvents(info.edge.url, { id: info.demo.tenantId, apiKey: info.demo.apiKey }, say);
  }
} catch (error) {
  if (shuttingDown) await shuttingDown;
  const message = error instanceof ServiceUnavailableError ? error.message : (error as Error).message;
  say(`cannot start the stack: ${message}`);
  await shutdown(1);
}

/** One line saying whether the edge sees Redis and Postgres, so a broken setup shows at once. */
async function reportHealth(edgeUrl: string): Promise<void> {
  try {
    const response = await fetch(`${edgeUrl}/health`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as {
      status: string;
      redis: { ok: boolean; error?: string };
      postgres: { ok: boolean; error?: string };
    };
    const part = (name: string, check: { ok: boolean; error?: string }) =>
      `${name} ${check.ok ? "ok" : `down (${check.error ?? "unknown"})`}`;
    say(`health: ${body.status}: ${part("redis", body.redis)}, ${part("postgres", body.postgres)}`);
  } catch (error) {
    say(`health: edge did not answer /health: ${(error as Error).message}`);
  }
}

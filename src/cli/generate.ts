// `npm run generate -- [--tenants 3] [--rate 2000] [--duration 60s] [--batch 500] [--concurrency 8]`
// Sends realistic random ad events through the public API with a live progress line. The edge URL, the demo
// tenant's key and the operator token come from the running `npm run dev` stack (.fairway/dev.json) unless
// given (--edge, --key, repeatable, --operator-token); tenants beyond those are created through the admin API
// and remembered in .fairway/generator-tenants.json. --duration 0 runs until Ctrl-C. Exit 1 when any event
// was refused or lost.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type GeneratorStats, generate, progressLine, resolveTenants } from "../local/generator/index.ts";
import { parseDuration } from "../local/qstash/protocol/duration.ts";
import { devFilePath, readDevFile } from "../local/services/dev-file.ts";

const USAGE =
  "usage: npm run generate -- [--tenants N] [--rate events/s] [--duration 60s|0] [--batch N] [--concurrency N] [--edge URL] [--key KEY]… [--operator-token T] [--seed N] [--quiet]";

function die(message: string): never {
  console.error(`generate: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

let values: Record<string, string | string[] | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      tenants: { type: "string", default: "1" },
      rate: { type: "string", default: "1000" },
      duration: { type: "string", default: "60s" },
      batch: { type: "string", default: "500" },
      concurrency: { type: "string", default: "8" },
      edge: { type: "string" },
      key: { type: "string", multiple: true },
      "operator-token": { type: "string" },
      seed: { type: "string" },
      quiet: { type: "boolean", default: false },
    },
    strict: true,
  }));
} catch (error) {
  die((error as Error).message);
}

function positiveInt(name: string, max: number): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1 || value > max)
    die(`--${name} must be an integer from 1 to ${max}`);
  return value;
}

const tenantsWanted = positiveInt("tenants", 1000);
const rate = positiveInt("rate", 1_000_000);
const batchSize = positiveInt("batch", 1000);
const concurrency = positiveInt("concurrency", 256);
const durationText = String(values.duration);
const durationMs = durationText === "0" ? undefined : parseDuration(durationText);
if (durationMs !== undefined && !(durationMs > 0))
  die(`--duration "${durationText}" is not a duration (60s, 5m, 0)`);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isInteger(seed)) die("--seed must be an integer");

const stateDir = process.env.FAIRWAY_STATE_DIR || ".fairway";
const dev = readDevFile(devFilePath(stateDir));
const edgeUrl = ((values.edge as string | undefined) ?? dev?.edge.url)?.replace(/\/+$/, "");
if (!edgeUrl) die("no --edge and no running dev stack (.fairway/dev.json)");

const quiet = values.quiet === true;
const interactive = process.stdout.isTTY && !quiet;
const write = (line: string) => {
  if (interactive) process.stdout.write(`\r\x1b[2K${line}`);
  else if (!quiet) console.log(line);
};

const abort = new AbortController();
process.on("SIGINT", () => abort.abort());
process.on("SIGTERM", () => abort.abort());

let final: GeneratorStats;
try {
  const tenants = await resolveTenants(
    {
      edgeUrl,
      operatorToken: (values["operator-token"] as string | undefined) ?? dev?.operatorToken,
      keys: values.key as string[] | undefined,
      demo: dev?.demo ? { id: dev.demo.tenantId, apiKey: dev.demo.apiKey } : undefined,
      savedPath: join(stateDir, "generator-tenants.json"),
    },
    tenantsWanted,
  );
  if (!quiet) {
    const how = durationMs === undefined ? "until Ctrl-C" : `for ${durationText}`;
    console.log(
      `generate: ${rate} events/s to ${edgeUrl} for ${tenants.map((t) => t.id).join(", ")}, ${how}`,
    );
  }
  final = await generate({
    edgeUrl,
    tenants,
    rate,
    durationMs,
    batchSize,
    concurrency,
    seed,
    signal: abort.signal,
    onProgress: (stats) => write(progressLine(stats)),
  });
} catch (error) {
  console.error(`generate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
if (interactive) process.stdout.write("\n");
const lost = final.rejected + final.failed;
if (lost > 0) console.error(`generate: ${lost} events not accepted; last error: ${final.lastError}`);
else if (!quiet) console.log(`generate: done, ${final.accepted.toLocaleString("en-US")} events accepted`);
process.exit(lost > 0 ? 1 : 0);

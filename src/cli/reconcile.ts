// `npm run reconcile -- --tenant <id> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--repair] [--json]`
// Recomputes a tenant's rollups (minute, hour, day, day by campaign) and live leaderboards from its raw events
// over whole UTC days (default: today) and reports drift; `--repair` rewrites what differs and checks again.
// Exit code: 0 clean (after repair, when repairing), 1 drift, 2 bad usage or unreachable services.
// Postgres: DATABASE_URL, else the running `npm run dev` stack (.fairway/dev.json). Redis: UPSTASH_REDIS_REST_URL
// and UPSTASH_REDIS_REST_TOKEN, else the dev stack's bridge.
import { parseArgs } from "node:util";
import { Redis } from "@upstash/redis";
import { readDevFile } from "../local/services/dev-file.ts";
import { openWarehouse } from "../warehouse/db.ts";
import {
  checkRollups,
  type Drift,
  driftCount,
  type ReconcileRange,
  rangeBounds,
  reconcileLeaderboards,
  repairRollups,
} from "../warehouse/reconcile.ts";

const USAGE =
  "usage: npm run reconcile -- --tenant <id> [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--repair] [--json]";

function die(message: string): never {
  console.error(`reconcile: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

let values: { tenant?: string; from?: string; to?: string; repair?: boolean; json?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      tenant: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      repair: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
    strict: true,
  }));
} catch (error) {
  die((error as Error).message);
}
if (!values.tenant) die("--tenant is required");
const today = new Date().toISOString().slice(0, 10);
const range: ReconcileRange = {
  tenantId: values.tenant,
  from: values.from ?? values.to ?? today,
  to: values.to ?? values.from ?? today,
};
try {
  rangeBounds(range);
} catch (error) {
  die((error as Error).message);
}

const dev = readDevFile();
const databaseUrl = process.env.DATABASE_URL || dev?.postgres.url;
const redisUrl = process.env.UPSTASH_REDIS_REST_URL || dev?.redisRest.url;
const redisToken = process.env.UPSTASH_REDIS_REST_TOKEN || dev?.redisRest.token;
if (!databaseUrl) die("no DATABASE_URL and no running dev stack (.fairway/dev.json)");
if (!redisUrl || !redisToken)
  die("no UPSTASH_REDIS_REST_URL / _TOKEN and no running dev stack (.fairway/dev.json)");

const wh = openWarehouse(databaseUrl, { max: 2, applicationName: "fairway-reconcile" });
const redis = new Redis({ url: redisUrl, token: redisToken, enableTelemetry: false });

async function check(repair: boolean) {
  const rollups = await checkRollups(wh.sql, range);
  const rewrittenRows =
    repair && rollups.some((d) => driftCount(d) > 0) ? await repairRollups(wh.db, wh.sql, range) : 0;
  const leaderboards = await reconcileLeaderboards(wh.db, wh.sql, redis, { ...range, repair });
  return { drifts: [...rollups, ...leaderboards.drifts], rewrittenRows, leaderboards };
}

function table(drifts: readonly Drift[]): string {
  const header = ["target", "expected", "stored", "missing", "extra", "different"];
  const rows = drifts.map((d) =>
    [d.target, d.expected, d.stored, d.missing, d.extra, d.different].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("  ")}`;
  return [line(header), ...rows.map(line)].join("\n");
}

function samples(drifts: readonly Drift[]): string[] {
  return drifts.flatMap((d) =>
    d.samples.map(
      (s) =>
        `    ${d.target} ${JSON.stringify(s.key)}: expected ${JSON.stringify(s.expected)}, stored ${JSON.stringify(s.stored)}`,
    ),
  );
}

let exitCode = 0;
try {
  const first = await check(values.repair === true);
  const drifted = first.drifts.filter((d) => driftCount(d) > 0);
  let after: Drift[] | undefined;
  if (values.repair && drifted.length > 0) after = (await check(false)).drifts;
  const remaining = (after ?? first.drifts).filter((d) => driftCount(d) > 0);
  exitCode = remaining.length > 0 ? 1 : 0;

  if (values.json) {
    console.log(
      JSON.stringify({
        ...range,
        liveMinutes: first.leaderboards.minutes.length,
        drifts: first.drifts,
        repaired: values.repair
          ? { rollupRows: first.rewrittenRows, leaderboardSets: first.leaderboards.rewritten }
          : undefined,
        after,
        clean: exitCode === 0,
      }),
    );
  } else {
    const minutes = first.leaderboards.minutes;
    const live =
      minutes.length === 0
        ? "no minute of the range is still in Redis"
        : `${minutes.length} minutes still in Redis, ${new Date((minutes[0] as number) * 60_000).toISOString()} on`;
    console.log(
      `reconcile tenant ${range.tenantId}, UTC days ${range.from} to ${range.to} (leaderboards: ${live})`,
    );
    console.log(table(first.drifts));
    for (const line of samples(drifted)) console.log(line);
    if (values.repair && drifted.length > 0) {
      console.log(
        `repaired: ${first.rewrittenRows} rollup rows, ${first.leaderboards.rewritten} leaderboard sets rewritten; check again:`,
      );
      console.log(table(after ?? []));
    }
    console.log(exitCode === 0 ? "no drift" : `drift in ${remaining.map((d) => d.target).join(", ")}`);
  }
} catch (error) {
  console.error(`reconcile: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 2;
} finally {
  await wh.close();
}
process.exit(exitCode);

// CSV import, end to end, against its baseline, in one run on this machine (loopback only):
//   1. a 100,000-row and a 1,000,000-row CSV file streamed to POST /v1/imports on a Bun edge process, through
//      the local QStash broker and the actors host into Postgres (raw events + three rollups); rate = rows /
//      time from the first byte sent until the import reads `completed`. The edge process's resident memory
//      (RSS, from /proc) is sampled every 50 ms: its peak must not grow with the file — compared between the
//      files, and within the big file between the first quarter of its upload and the whole import. CPU seconds
//      per process during the big import show where the time goes.
//   2. baseline: psql \copy of the same 1,000,000 rows into the raw table alone. Target: the whole path ≥ 25%
//      of the \copy rate.
//   3. with --neighbour: a second tenant B (200,000 events written to the warehouse directly) asks a distinct,
//      so uncached, query through POST /v1/queries every 50 ms: 20 s alone, then while another tenant imports
//      the big file again. B's p50/p99 end to end (from each query's scheduled start until its answer) during
//      the import against alone, and the import's rate with B asking against the big import's earlier in the run.
//   npm run bench -- import [--rows 1000000] [--small 100000] [--neighbour]
// Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (a server; a throwaway database is created on it),
// PROFILE_ACTORS=<dir> (the actors host writes a Markdown CPU profile there when it stops).
import { appendFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "@upstash/redis";
import { keys, tenantTag } from "../src/domain/keys.ts";
import type { Query } from "../src/domain/query/index.ts";
import { BrokerStore } from "../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../src/local/qstash/store/redis-link.ts";
import type { RunningChild } from "../src/local/services/supervisor.ts";
import { dropDatabase, withDatabaseName } from "../src/warehouse/database.ts";
import { openWarehouse, type Warehouse } from "../src/warehouse/db.ts";
import { migrate } from "../src/warehouse/migrate.ts";
import type { LoopResult } from "./support/closed-loop.ts";
import { openLoop } from "./support/open-loop.ts";
import { count, describeDatabase, option, percent } from "./support/output.ts";
import { cpuMillis } from "./support/processes.ts";
import { psqlCopyAdEvents } from "./support/psql-copy.ts";
import { seedWeekOfEvents } from "./support/seed.ts";
import { startBenchStack } from "./support/stack.ts";
import { percentile, sortAscending } from "./support/stats.ts";

const RUN_ID = crypto.randomUUID().slice(0, 8);
const BRIDGE_TOKEN = `bench-import-${RUN_ID}`;
const OPERATOR_TOKEN = `operator-${RUN_ID}`;
const BROKER_PREFIX = `bench-import-${RUN_ID}`;
const HEADER = "id,ts,kind,channel,campaign,ad,country,city,cost,revenue";
const DAY = 86_400_000;
/** The neighbour scenario: B's events, its queries a second, and how long it asks alone. */
const NEIGHBOUR_EVENTS = 200_000;
const NEIGHBOUR_PER_SECOND = 20;
const NEIGHBOUR_ALONE_SECONDS = 20;
/** B's private warehouse semaphore, so other work on the shared Redis takes none of its permits. */
const SEMAPHORE_KEY = `{bench-import-${RUN_ID}}:wh:sem`;

interface Tenant {
  id: string;
  apiKey: string;
}

interface ImportRun {
  rows: number;
  bytes: number;
  seconds: number;
  uploadSeconds: number;
  peakRssMiB: number;
  /** Peak RSS during the first quarter of the upload (the reading phase). */
  earlyPeakRssMiB: number;
  status: string;
  cpu: Record<string, number>;
}

export async function run(args: string[]): Promise<void> {
  const bigRows = Number(option(args, "--rows") ?? 1_000_000);
  const smallRows = Number(option(args, "--small") ?? 100_000);
  const neighbour = args.includes("--neighbour");
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = withDatabaseName(
    process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway",
    `fairway_bench_${RUN_ID}`,
  );
  const children: RunningChild[] = [];
  const tenants: Tenant[] = [];
  const files: string[] = [];
  let wh: Warehouse | undefined;
  let redis: Redis | undefined;
  try {
    await migrate(databaseUrl);
    wh = openWarehouse(databaseUrl, { max: 2, applicationName: "bench" });
    const stack = await startBenchStack(children, {
      redisUrl,
      databaseUrl,
      bridgeToken: BRIDGE_TOKEN,
      brokerPrefix: BROKER_PREFIX,
      operatorToken: OPERATOR_TOKEN,
      actorsEnv: {
        INFLUENCER_SINK: "off",
        FAIRWAY_MONITOR_NAMESPACE: `bench-${RUN_ID}`,
        ...(neighbour ? { WAREHOUSE_SEMAPHORE_KEY: SEMAPHORE_KEY } : {}),
        ...(process.env.PROFILE_ACTORS
          ? { BUN_OPTIONS: `--cpu-prof-md --cpu-prof-dir=${process.env.PROFILE_ACTORS}` }
          : {}),
      },
    });
    redis = stack.redis;
    const edgeUrl = stack.edge;
    const edgePid = (children[children.length - 1] as RunningChild).pid;
    const pids = Object.fromEntries(children.map((running) => [running.name, running.pid]));
    const databaseName = new URL(databaseUrl).pathname.slice(1);

    const small = writeCsv(smallRows, 1);
    const big = writeCsv(bigRows, 2);
    files.push(small.path, big.path);
    console.log(
      `import benchmark: ${count(smallRows)}-row file (${mib(small.bytes)}) and ${count(bigRows)}-row file ` +
        `(${mib(big.bytes)}), 1% bad rows, time-ordered over 90 days; Postgres ${describeDatabase(databaseUrl)}, ` +
        `Redis ${redisUrl}, ${navigator.hardwareConcurrency} cores`,
    );
    const idleRss = rssMiB(edgePid);

    const runs: ImportRun[] = [];
    for (const file of [small, big]) {
      const tenant = await createTenant(edgeUrl, wh);
      tenants.push(tenant);
      const result = await importFile(edgeUrl, tenant, file, edgePid, () => cpuSeconds(pids, databaseName));
      runs.push(result);
      console.log(
        `  ${count(result.rows)} rows (${mib(result.bytes)}): ${result.status} in ${result.seconds.toFixed(1)} s ` +
          `(upload read and queued in ${result.uploadSeconds.toFixed(1)} s) = ${count(result.rows / result.seconds)} ` +
          `rows/s; edge peak RSS ${result.peakRssMiB.toFixed(0)} MiB (idle ${idleRss.toFixed(0)} MiB)`,
      );
    }
    // Before the \copy baselines, so both imports of the big file meet about the same table sizes.
    const crowded = neighbour
      ? await neighbourRun(edgeUrl, stack.redis, wh, tenants, big, edgePid, (runs[1] as ImportRun).seconds)
      : undefined;

    // Best of two runs: the machine's other load makes single \copy runs vary.
    const copies = [
      await copyBaseline(databaseUrl, big.path, 1),
      await copyBaseline(databaseUrl, big.path, 2),
    ];
    const copy = copies.reduce((best, run) => (run.perSecond > best.perSecond ? run : best));
    const whole = (runs[1] as ImportRun).rows / (runs[1] as ImportRun).seconds;
    const ratio = whole / copy.perSecond;
    console.log(
      `  \\copy of the same ${count(bigRows)} rows into ad_events alone, best of two: ${count(copy.perSecond)} rows/s ` +
        `(${copies.map((c) => `${c.seconds.toFixed(1)} s`).join(", ")})`,
    );
    console.log(
      `  whole path / \\copy = ${percent(ratio)} — target ≥ 25%: ${ratio >= 0.25 ? "met" : "NOT met"}`,
    );
    const [smallRun, bigRun] = runs as [ImportRun, ImportRun];
    const growth = bigRun.peakRssMiB / smallRun.peakRssMiB;
    const plateau = bigRun.peakRssMiB / bigRun.earlyPeakRssMiB;
    // The small file's upload ends before the collector settles; within the big file, a peak reached in its
    // first quarter and not passed over the rest shows memory bounded by the chunks in flight, not the file.
    console.log(
      `  edge peak RSS ${smallRun.peakRssMiB.toFixed(0)} MiB for ${mib(small.bytes)} vs ` +
        `${bigRun.peakRssMiB.toFixed(0)} MiB for ${mib(big.bytes)} (${growth.toFixed(2)}x for a ` +
        `${(big.bytes / small.bytes).toFixed(0)}x larger file); within the big file: ` +
        `${bigRun.earlyPeakRssMiB.toFixed(0)} MiB in the first quarter of its upload, ${bigRun.peakRssMiB.toFixed(0)} MiB ` +
        `over all (${plateau.toFixed(2)}x) — flat (the big file's peak ≤ 1.25x its first quarter's): ` +
        `${plateau <= 1.25 ? "yes" : "NO"}`,
    );
    const cpu = Object.entries(bigRun.cpu).sort((a, b) => b[1] - a[1]);
    const total = cpu.reduce((sum, [, seconds]) => sum + seconds, 0);
    console.log(
      `  CPU seconds during the ${count(bigRows)}-row import (${bigRun.seconds.toFixed(0)} s on ` +
        `${navigator.hardwareConcurrency} cores): ` +
        cpu
          .map(
            ([name, seconds]) =>
              `${name} ${seconds.toFixed(1)} (${((100 * seconds) / total).toFixed(0)}%, ` +
              `${((seconds * 1e6) / bigRows).toFixed(1)} µs/row)`,
          )
          .join(", "),
    );
    if (crowded) reportNeighbour(crowded, runs[1] as ImportRun);
  } finally {
    if (redis) {
      for (const tenant of tenants) {
        const found = await redis.keys(`${tenantTag(tenant.id)}*`).catch(() => []);
        if (found.length > 0) await redis.del(...found);
        await redis.srem("fw:tenants", tenant.id).catch(() => 0);
      }
      const scoped = await redis.keys(`fw:*:bench-${RUN_ID}*`).catch(() => []);
      if (scoped.length > 0) await redis.del(...scoped);
      const semaphore = await redis.keys(`{bench-import-${RUN_ID}}*`).catch(() => []);
      if (semaphore.length > 0) await redis.del(...semaphore);
    }
    for (const running of children.reverse()) await running.stop();
    for (const file of files) rmSync(file, { force: true });
    const link = await RedisLink.open(redisUrl, "bench-import-cleanup");
    await new BrokerStore(link, BROKER_PREFIX).destroyAll();
    await link.close();
    await wh?.close();
    await dropDatabase(databaseUrl);
  }
}

/** A realistic export: time-ordered over 90 days, 200 ads in 20 campaigns, 3 channels, 12 places; 1% bad. */
function writeCsv(rows: number, seed: number): { path: string; bytes: number; rows: number } {
  const path = join(tmpdir(), `fairway-bench-import-${RUN_ID}-${rows}.csv`);
  const start = Date.now() - 91 * DAY;
  const step = (90 * DAY) / rows;
  const kinds = [
    "impression",
    "impression",
    "impression",
    "impression",
    "view",
    "click",
    "click",
    "conversion",
  ];
  const channels = ["google", "facebook", "email"];
  const places = ["US,Austin", "US,Boston", "US,Denver", "FR,Lyon", "FR,Paris", "DE,Berlin", "DE,Munich"];
  const parts: string[] = [HEADER];
  const flush = () => {
    appendFileSync(path, `${parts.join("\n")}\n`);
    parts.length = 0;
  };
  rmSync(path, { force: true });
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  for (let i = 1; i <= rows; i++) {
    const ts = new Date(start + Math.floor(i * step)).toISOString();
    if (i % 100 === 0) {
      parts.push(`x${seed}-${i},${ts},clik,google,camp-1,ad-1,US,Austin,1,0`);
    } else {
      const kind = kinds[Math.floor(random() * kinds.length)] as string;
      const ad = Math.floor(random() * random() * 200);
      const cost = kind === "impression" ? "0.002" : (random() * 2).toFixed(4);
      const place = places[Math.floor(random() * places.length)];
      parts.push(
        `e${seed}-${i},${ts},${kind},${channels[ad % 3]},camp-${ad % 20},ad-${ad},${place},${cost},${kind === "conversion" ? "25" : "0"}`,
      );
    }
    if (parts.length >= 10_000) flush();
  }
  if (parts.length > 0) flush();
  return { path, bytes: statSync(path).size, rows };
}

/** Streams a file to the edge, then polls the import until it ends; samples the edge's RSS throughout. */
async function importFile(
  edge: string,
  tenant: Tenant,
  file: { path: string; bytes: number; rows: number },
  edgePid: number,
  readCpu: () => Record<string, number>,
  tag = "",
): Promise<ImportRun> {
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([performance.now(), rssMiB(edgePid)]), 50);
  const cpuBefore = readCpu();
  const importId = `bench-${RUN_ID}-${file.rows}${tag}`;
  const started = performance.now();
  try {
    const response = await fetch(`${edge}/v1/imports`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tenant.apiKey}`,
        "content-type": "text/csv",
        "idempotency-key": importId,
      },
      body: Bun.file(file.path).stream(),
      duplex: "half",
    } as RequestInit);
    const accepted = await response.text();
    if (response.status !== 202) throw new Error(`upload refused: ${response.status} ${accepted}`);
    const uploadSeconds = (performance.now() - started) / 1000;
    for (;;) {
      const poll = await fetch(`${edge}/v1/imports/${importId}`, {
        headers: { authorization: `Bearer ${tenant.apiKey}` },
      });
      const view = (await poll.json()) as { status: string; rows: { accepted: number; rejected: number } };
      if (["completed", "completed_with_errors", "failed"].includes(view.status)) {
        const seconds = (performance.now() - started) / 1000;
        const counted = view.rows.accepted + view.rows.rejected;
        if (counted !== file.rows) throw new Error(`import counted ${counted} rows of ${file.rows}`);
        const cpuAfter = readCpu();
        const quarter = started + (uploadSeconds * 1000) / 4;
        const peak = Math.max(...samples.map(([, rss]) => rss));
        const earlyPeak = Math.max(...samples.filter(([at]) => at <= quarter).map(([, rss]) => rss), 0);
        const cpu = Object.fromEntries(
          Object.entries(cpuAfter).map(([name, seconds]) => [name, seconds - (cpuBefore[name] ?? 0)]),
        );
        return {
          rows: file.rows,
          bytes: file.bytes,
          seconds,
          uploadSeconds,
          peakRssMiB: peak,
          earlyPeakRssMiB: earlyPeak,
          status: view.status,
          cpu,
        };
      }
      await Bun.sleep(100);
    }
  } finally {
    clearInterval(sampler);
  }
}

interface NeighbourRun {
  events: number;
  alone: LoopResult;
  during: LoopResult;
  /** B's queries that failed or went unanswered, per phase; and those not answered within one 25 s wait. */
  failed: { alone: number; during: number };
  overWait: { alone: number; during: number };
  /** B's queries of the second phase that started after the import had ended. */
  afterImport: number;
  /** B's latencies during the import (ms, sorted): while A's upload was read and queued, and after it. */
  duringUpload: number[];
  afterUpload: number[];
  /** Where B's time went, per phase (ms, sorted): before the actor started the query, and its statement. */
  split: { alone: Split; during: Split };
  imported: ImportRun;
  loadBefore: string;
  loadAfter: string;
}

/**
 * Tenant B asks alone, then while tenant A imports `file` again; B asks for `importSeconds` (the same file's
 * import time alone), so its queries fall inside A's import unless B's load shortens it.
 */
async function neighbourRun(
  edge: string,
  redis: Redis,
  wh: Warehouse,
  tenants: Tenant[],
  file: { path: string; bytes: number; rows: number },
  edgePid: number,
  importSeconds: number,
): Promise<NeighbourRun> {
  const b = await createTenant(edge, wh);
  tenants.push(b);
  // B's history: the last 7 days.
  await seedWeekOfEvents(wh, b.id, NEIGHBOUR_EVENTS, Date.now() - 60_000 - 7 * DAY, "n");
  const a = await createTenant(edge, wh);
  tenants.push(a);
  const loadBefore = loadAverage();
  const asker = new NeighbourAsker(edge, b);
  await openLoop(NEIGHBOUR_PER_SECOND, 1, () => asker.ask("warm-up")); // connections, scripts, JIT
  const alone = await openLoop(NEIGHBOUR_PER_SECOND, NEIGHBOUR_ALONE_SECONDS, () => asker.ask("alone"));
  const importStarted = performance.now();
  const importing = importFile(edge, a, file, edgePid, () => ({}), "-neighbour");
  importing.catch(() => {}); // awaited below; B's loop must not see it as unhandled meanwhile
  const during = await openLoop(NEIGHBOUR_PER_SECOND, importSeconds, () => asker.ask("during"));
  const imported = await importing;
  const importEnded = importStarted + imported.seconds * 1000;
  const uploadEnded = importStarted + imported.uploadSeconds * 1000;
  const timed = asker.timed.during;
  const inUpload = (call: { at: number }) => call.at <= uploadEnded;
  return {
    events: NEIGHBOUR_EVENTS,
    alone,
    during,
    failed: asker.failed,
    overWait: asker.overWait,
    afterImport: timed.filter(({ at }) => at > importEnded).length,
    duringUpload: sortAscending(timed.filter(inUpload).map(({ ms }) => ms)),
    afterUpload: sortAscending(timed.filter((call) => !inUpload(call)).map(({ ms }) => ms)),
    split: {
      alone: await splitOf(redis, b.id, asker.answered.alone),
      during: await splitOf(redis, b.id, asker.answered.during),
    },
    imported,
    loadBefore,
    loadAfter: loadAverage(),
  };
}

type Phase = "warm-up" | "alone" | "during";

interface Answered {
  queryId: string;
  /** Wall clock when B sent it, to compare with the edge's queued record. */
  askedAt: number;
  /** The SQL statement alone, as the actor timed it. */
  statementMs: number;
}

interface Split {
  /** From B's send to the edge's queued record: the edge's auth, body read and single-flight join. */
  edge: number[];
  /** From the edge's queued record to the actor's start: broker, delivery, tenant and warehouse permits. */
  beforeStart: number[];
  /** From the actor's start to its finish, less the statement: a pool connection, BEGIN, the finish script. */
  aroundStatement: number[];
  statement: number[];
}

/** B's answered queries' times from their status records (read after the phases, so as not to add load). */
async function splitOf(redis: Redis, tenantId: string, answered: Answered[]): Promise<Split> {
  const split: Split = { edge: [], beforeStart: [], aroundStatement: [], statement: [] };
  for (const { queryId, askedAt, statementMs } of answered) {
    const status = await redis.hgetall<Record<string, string>>(keys.query(tenantId, queryId));
    const at = (name: string) => Number(status?.[name]);
    split.edge.push(at("createdAt") - askedAt);
    split.beforeStart.push(at("startedAt") - at("createdAt"));
    split.aroundStatement.push(at("finishedAt") - at("startedAt") - statementMs);
    split.statement.push(statementMs);
  }
  for (const values of Object.values(split)) values.sort((x: number, y: number) => x - y);
  return split;
}

/** B's client: one distinct question per call (so the cache never answers), waited for through the edge. */
class NeighbourAsker {
  private asked = 0;
  readonly failed: Record<Phase, number> = { "warm-up": 0, alone: 0, during: 0 };
  readonly overWait: Record<Phase, number> = { "warm-up": 0, alone: 0, during: 0 };
  /** Each call's start and its latency from there (the open loop's own figures count from the schedule). */
  readonly timed: Record<Phase, { at: number; ms: number }[]> = { "warm-up": [], alone: [], during: [] };
  readonly answered: Record<Phase, Answered[]> = { "warm-up": [], alone: [], during: [] };

  constructor(
    private readonly edge: string,
    private readonly tenant: Tenant,
  ) {}

  async ask(phase: Phase): Promise<void> {
    const at = performance.now();
    const askedAt = Date.now();
    const query: Query = {
      measures: ["clicks", "impressions", "spend"],
      dimensions: ["ad"],
      filters: [{ member: "campaign", operator: "notEquals", values: [`none-${RUN_ID}-${this.asked++}`] }],
      limit: 10,
    };
    const headers = { authorization: `Bearer ${this.tenant.apiKey}`, "content-type": "application/json" };
    try {
      let response = await fetch(`${this.edge}/v1/queries?wait=25s`, {
        method: "POST",
        headers,
        body: JSON.stringify(query),
      });
      // 202: not answered within the wait; follow it up to twice more before calling it lost.
      for (let poll = 0; response.status === 202; poll++) {
        if (poll === 0) this.overWait[phase]++;
        const { id } = (await response.json()) as { id: string };
        if (poll === 2) throw new Error(`query ${id} unanswered after 75 s`);
        response = await fetch(`${this.edge}/v1/queries/${id}?wait=25s`, { headers });
      }
      const answer = (await response.json()) as {
        meta?: { cache?: string; queryId: string; durationMs: number };
      };
      if (response.status !== 200 || answer.meta?.cache !== "miss") throw new Error(`${response.status}`);
      this.answered[phase].push({
        queryId: answer.meta.queryId,
        askedAt,
        statementMs: answer.meta.durationMs,
      });
    } catch {
      this.failed[phase]++;
    }
    this.timed[phase].push({ at, ms: performance.now() - at });
  }
}

function reportNeighbour(run: NeighbourRun, alone: ImportRun): void {
  const ms = (result: LoopResult, p: number) => percentile(result.latencies, p);
  const answered = (result: LoopResult, failed: number, overWait: number) =>
    `${count(result.latencies.length - failed)} answered, ${failed} failed, ${overWait} over 25 s`;
  console.log(
    `  neighbour: tenant B (${count(run.events)} events) asks a distinct uncached query every ` +
      `${1000 / NEIGHBOUR_PER_SECOND} ms through POST /v1/queries; load average before ${run.loadBefore}`,
  );
  console.log(
    `  B alone (${NEIGHBOUR_ALONE_SECONDS} s): p50 ${ms(run.alone, 50).toFixed(1)} ms, p99 ` +
      `${ms(run.alone, 99).toFixed(1)} ms (${answered(run.alone, run.failed.alone, run.overWait.alone)})`,
  );
  console.log(
    `  B during tenant A's ${count(run.imported.rows)}-row import (asking for its first ${alone.seconds.toFixed(1)} s ` +
      `of ${run.imported.seconds.toFixed(1)} s; ${run.afterImport} asked after it ended): p50 ` +
      `${ms(run.during, 50).toFixed(1)} ms, p99 ${ms(run.during, 99).toFixed(1)} ms ` +
      `(${answered(run.during, run.failed.during, run.overWait.during)})`,
  );
  const p99Ratio = ms(run.during, 99) / ms(run.alone, 99);
  console.log(
    `  B during A's upload (first ${run.imported.uploadSeconds.toFixed(1)} s, ${run.duringUpload.length} queries): ` +
      `p50 / p99 ${fmtPair(run.duringUpload)} ms; after it (${run.afterUpload.length}): ${fmtPair(run.afterUpload)} ms`,
  );
  const pair = (name: keyof Split) =>
    `${SPLIT_NAMES[name]} ${fmtPair(run.split.alone[name])} → ${fmtPair(run.split.during[name])}`;
  console.log(
    `  B's time split, p50 / p99 ms, alone → during: ${pair("edge")}; ${pair("beforeStart")}; ` +
      `${pair("aroundStatement")}; ${pair("statement")}`,
  );
  console.log(
    `  B during / alone: p50 ${(ms(run.during, 50) / ms(run.alone, 50)).toFixed(2)}x, p99 ${p99Ratio.toFixed(2)}x` +
      ` — within 2x (the query-actor bench's neighbour target): ${p99Ratio <= 2 ? "yes" : "NO"}`,
  );
  const rate = run.imported.rows / run.imported.seconds;
  const aloneRate = alone.rows / alone.seconds;
  console.log(
    `  A's import with B asking: ${run.imported.status} in ${run.imported.seconds.toFixed(1)} s = ${count(rate)} ` +
      `rows/s, against ${count(aloneRate)} rows/s for the same file earlier in this run (${(rate / aloneRate).toFixed(2)}x)`,
  );
  console.log(`  load average after ${run.loadAfter}`);
}

const SPLIT_NAMES: Record<keyof Split, string> = {
  edge: "ask → queued at the edge",
  beforeStart: "queued → actor start",
  aroundStatement: "actor start → finish less the statement",
  statement: "statement",
};

function fmtPair(sorted: number[]): string {
  // A paced upload lasts about as long as the import: no query may come after it.
  if (sorted.length === 0) return "– / –";
  return `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)}`;
}

function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(", ");
}

/** psql \copy of the same rows (with the tenant column the raw table needs) into ad_events alone. */
async function copyBaseline(
  databaseUrl: string,
  csvPath: string,
  attempt: number,
): Promise<{ perSecond: number; seconds: number }> {
  const lines = readFileSync(csvPath, "utf8").split("\n");
  const file = join(tmpdir(), `fairway-bench-import-copy-${RUN_ID}.csv`);
  let rows = 0;
  const out: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    out.push(`copy-baseline-${attempt},${line.replace(",clik,", ",click,")}`);
    rows++;
  }
  writeFileSync(file, `${out.join("\n")}\n`);
  out.length = 0;
  try {
    const started = performance.now();
    await psqlCopyAdEvents(databaseUrl, file);
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: rows / seconds, seconds };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * CPU seconds so far of each child process and of Postgres (the backends serving the bench database, plus the
 * server's own background processes) and redis-server (shared with anything else on this machine).
 */
function cpuSeconds(pids: Record<string, number>, databaseName: string): Record<string, number> {
  const out: Record<string, number> = {};
  // A process that ends between listing /proc and reading it adds nothing, rather than a NaN to the sums.
  const read = (pid: number): number => {
    const ms = cpuMillis(pid);
    return Number.isNaN(ms) ? 0 : ms / 1000;
  };
  for (const [name, pid] of Object.entries(pids)) out[name] = read(pid);
  out.postgres = 0;
  out["redis-server"] = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let command = "";
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (command.startsWith("redis-server")) out["redis-server"] += read(Number(entry));
    // The bench database's own backends and the server's background processes (WAL writer, checkpointer…);
    // not other databases' backends, which belong to whatever else runs on this machine.
    else if (
      command.startsWith("postgres:") &&
      (command.includes(databaseName) || !CLIENT_BACKEND.test(command))
    )
      out.postgres += read(Number(entry));
  }
  return out;
}

/** A backend serving a client: its process title names the client's address (`host(port)` or `[local]`). */
const CLIENT_BACKEND = /\(\d+\)|\[local\]/;

function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

async function createTenant(edge: string, wh: Warehouse): Promise<Tenant> {
  const response = await fetch(`${edge}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `import bench ${RUN_ID}`, rateLimit: 1_000_000 }),
  });
  if (response.status !== 201) throw new Error(`create tenant: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as Tenant;
  // Import bookkeeping refers to the tenant's warehouse row, written by tenant-sync.
  const deadline = Date.now() + 10_000;
  while ((await wh.sql`select 1 from tenants where id = ${created.id}`).length === 0) {
    if (Date.now() > deadline) throw new Error("the tenant never reached the warehouse");
    await Bun.sleep(20);
  }
  return { id: created.id, apiKey: created.apiKey };
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

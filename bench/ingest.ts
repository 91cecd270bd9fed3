// Ingestion, end to end, against its baselines, in one run on this machine (loopback only):
//   1. top-100 ads over the last minute through the edge (auth + snapshot read): p50 / p99 with the current
//      minute filled by a burst, then while another process sends 2,000 events/s; each as fast as 4 callers go
//      (closed loop: the machine saturated) and at a steady 500 requests/s (open loop, latency from each
//      request's scheduled start); GET /v1/meta (auth alone) for comparison; and the edge's CPU per 1,000
//      events while those events arrive with nothing reading. Target p99 ≤ 5 ms.
//   2. sustained ingest: batches of 1,000 events POSTed to the edge by concurrent clients for --seconds, through
//      the local QStash broker and the actors host into Postgres (raw + every rollup) and Redis (leaderboards);
//      rate = events stored / time until the last one is stored. Baseline: psql \copy of the same events into the
//      raw table alone. Target ≥ 20,000 events/s and ≥ 10% of \copy.
//   3. 30-day group-bys for a tenant with --events events (seeded with SQL generate_series, every rollup folded
//      from them): the product's example question (clicks, spend and conversions by campaign, channel and
//      country, last 30 days) and a daily chart (day x channel x country, 7 measures), each from the rollup the
//      compiler picks vs from raw events, same rows; cold (first run on a fresh connection, opened beforehand
//      and timed apart) and warm. Target ≥ 20x faster and ≤ 50 ms from rollups.
//   npm run bench -- ingest [--seconds 20] [--clients 8] [--tenants 4] [--events 5000000] [--skip-query]
//     [--query-only] (section 3 alone, without the stack) [--query-rounds 3] (section 3's measurements)
//     [--top-only] (section 1 alone)
// Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (a server; a throwaway database is created on it).
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "@upstash/redis";
import type { IngestEvent } from "../src/domain/events/index.ts";
import { tenantTag } from "../src/domain/keys.ts";
import { compileQuery, decodeRows, parseQuery, type Query } from "../src/domain/query/index.ts";
import { buildCatalogue, EventStream } from "../src/local/generator/index.ts";
import { BrokerStore } from "../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../src/local/qstash/store/redis-link.ts";
import { REPO_ROOT } from "../src/local/services/dev-stack.ts";
import type { RunningChild } from "../src/local/services/supervisor.ts";
import { dropDatabase, withDatabaseName } from "../src/warehouse/database.ts";
import { openWarehouse, type Warehouse } from "../src/warehouse/db.ts";
import { migrate } from "../src/warehouse/migrate.ts";
import { ROLLUPS } from "../src/warehouse/rollups.ts";
import { closedLoop } from "./support/closed-loop.ts";
import { openLoop } from "./support/open-loop.ts";
import { count, describeDatabase, option } from "./support/output.ts";
import { cpuMillis } from "./support/processes.ts";
import { psqlCopyAdEvents } from "./support/psql-copy.ts";
import { startBenchStack } from "./support/stack.ts";
import { percentile } from "./support/stats.ts";

const RUN_ID = crypto.randomUUID().slice(0, 8);
const BRIDGE_TOKEN = `bench-ingest-${RUN_ID}`;
const OPERATOR_TOKEN = `operator-${RUN_ID}`;
const BROKER_PREFIX = `bench-ingest-${RUN_ID}`;
const BATCH = 1000;
const DAY = 86_400_000;

interface Tenant {
  id: string;
  apiKey: string;
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(option(args, "--seconds") ?? 20);
  const clients = Number(option(args, "--clients") ?? 8);
  const tenantCount = Number(option(args, "--tenants") ?? 4);
  const bigEvents = Number(option(args, "--events") ?? 5_000_000);
  const queryOnly = args.includes("--query-only");
  const queryRounds = Number(option(args, "--query-rounds") ?? 3);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = withDatabaseName(
    process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/fairway",
    `fairway_bench_${RUN_ID}`,
  );
  const children: RunningChild[] = [];
  const tenants: Tenant[] = [];
  let wh: Warehouse | undefined;
  let redis: Redis | undefined;
  try {
    await migrate(databaseUrl);
    wh = openWarehouse(databaseUrl, { max: 2, applicationName: "bench" });
    if (queryOnly) {
      await groupByQuery(wh, databaseUrl, bigEvents, queryRounds);
      return;
    }
    const stack = await startBenchStack(children, {
      redisUrl,
      databaseUrl,
      bridgeToken: BRIDGE_TOKEN,
      brokerPrefix: BROKER_PREFIX,
      operatorToken: OPERATOR_TOKEN,
    });
    redis = stack.redis;
    const { edge } = stack;
    for (let i = 0; i < tenantCount; i++) tenants.push(await createTenant(edge, `bench ${i + 1}`));
    // The live-read tenant is separate, so the sustained phase counts only its own events.
    const reader = await createTenant(edge, "bench live reads");
    tenants.push(reader);
    console.log(
      `ingest benchmark: ${tenantCount} tenants, ${clients} clients, batches of ${BATCH}, ${seconds} s; ` +
        `Postgres ${describeDatabase(databaseUrl)}, Redis ${redisUrl}, ${navigator.hardwareConcurrency} cores`,
    );

    await topLatency(edge, reader, seconds, children.find((running) => running.name === "edge")?.pid);
    if (args.includes("--top-only")) return;

    const writers = tenants.slice(0, tenantCount);
    const sustained = await sustainedIngest(wh, edge, writers, clients, seconds);
    await settle(wh);
    const copy = await copyBaseline(databaseUrl, sustained.events);
    const ratio = sustained.storedPerSecond / copy.perSecond;
    console.log(
      `  \\copy of the same ${sustained.events.length.toLocaleString("en-US")} events into ad_events alone: ` +
        `${count(copy.perSecond)} events/s (${copy.seconds.toFixed(2)} s)`,
    );
    console.log(
      `  whole path / \\copy = ${(ratio * 100).toFixed(1)}% — target ≥ 20,000 events/s and ≥ 10%: ` +
        `${sustained.storedPerSecond >= 20_000 && ratio >= 0.1 ? "met" : "NOT met"}`,
    );

    if (!args.includes("--skip-query")) await groupByQuery(wh, databaseUrl, bigEvents, queryRounds);
  } finally {
    // Tenant keys go while the bridge still runs; then the processes, the broker's state and the database.
    if (redis) {
      for (const tenant of tenants) {
        const found = await redis.keys(`${tenantTag(tenant.id)}*`).catch(() => []);
        if (found.length > 0) await redis.del(...found);
        await redis.srem("fw:tenants", tenant.id).catch(() => 0);
      }
    }
    for (const running of children.reverse()) await running.stop();
    const link = await RedisLink.open(redisUrl, "bench-ingest-cleanup");
    await new BrokerStore(link, BROKER_PREFIX).destroyAll();
    await link.close();
    await wh?.close();
    await dropDatabase(databaseUrl);
  }
}

// ------------------------------------------------------------------------------------- 1. sustained ingest

/**
 * Batch bodies are made from templates (generated once per tenant) whose event ids carry a placeholder, so
 * each request costs the client a string replace, not a thousand `JSON.stringify`s: the client shares the two
 * cores with everything it measures.
 */
function templates(tenantIndex: number, count: number): { body: string; events: IngestEvent[] }[] {
  const stream = new EventStream(buildCatalogue({ seed: 100 + tenantIndex }), {
    seed: 200 + tenantIndex,
    runId: "@B@",
    lateRatio: 0.01,
  });
  const now = Date.now();
  return Array.from({ length: count }, () => {
    const events = Array.from({ length: BATCH }, () => stream.next(now));
    return { body: JSON.stringify({ events }), events };
  });
}

async function sustainedIngest(
  wh: Warehouse,
  edge: string,
  tenants: Tenant[],
  clients: number,
  seconds: number,
) {
  const pools = tenants.map((_, i) => templates(i, 20));
  const sent: { tenant: number; template: number; batch: number }[] = [];
  let batchNo = 0;
  let accepted = 0;
  let refused = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let i = c;
      while (performance.now() < deadline) {
        const tenant = i % tenants.length;
        const pool = pools[tenant] as { body: string }[];
        const template = Math.floor(i / tenants.length) % pool.length;
        const batch = ++batchNo;
        i += clients;
        const body = (pool[template] as { body: string }).body.replaceAll("@B@", `b${batch}x`);
        const response = await fetch(`${edge}/v1/events`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${(tenants[tenant] as Tenant).apiKey}`,
            "content-type": "application/json",
          },
          body,
        });
        await response.arrayBuffer();
        if (response.status === 202) {
          accepted += BATCH;
          sent.push({ tenant, template, batch });
        } else refused++;
      }
    }),
  );
  const acceptSeconds = (performance.now() - started) / 1000;
  const ids = tenants.map((tenant) => tenant.id);
  let stored = 0;
  const drainDeadline = performance.now() + 180_000;
  let pending = 0;
  // Done when every event is in Postgres and every tally has reached Redis (the outbox is empty).
  while (performance.now() < drainDeadline) {
    const [row] = await wh.sql`
      select (select count(*) from ad_events where tenant_id in ${wh.sql(ids)})::int as stored,
             (select count(*) from leaderboard_outbox where tenant_id in ${wh.sql(ids)})::int as pending`;
    ({ stored, pending } = row as { stored: number; pending: number });
    if (stored >= accepted && pending === 0) break;
    await Bun.sleep(200);
  }
  const storedSeconds = (performance.now() - started) / 1000;
  const storedPerSecond = stored / storedSeconds;
  console.log(
    `  edge accepted ${count(accepted)} events in ${acceptSeconds.toFixed(1)} s (${count(accepted / acceptSeconds)}/s, ` +
      `${refused} batches refused); stored ${count(stored)} in ${storedSeconds.toFixed(1)} s: ` +
      `${count(storedPerSecond)} events/s through HTTP → broker → actor → Postgres + rollups + Redis` +
      (pending > 0 ? ` (${pending} tallies still waiting for Redis at the deadline)` : ""),
  );
  const events = sent.flatMap(({ tenant, template, batch }) =>
    ((pools[tenant] as { events: IngestEvent[] }[])[template] as { events: IngestEvent[] }).events.map(
      (event) => ({
        ...event,
        id: event.id.replace("@B@", `b${batch}x`),
      }),
    ),
  );
  return { storedPerSecond, stored, events };
}

async function copyBaseline(
  databaseUrl: string,
  events: IngestEvent[],
): Promise<{ perSecond: number; seconds: number }> {
  const file = join(tmpdir(), `fairway-bench-copy-${RUN_ID}.csv`);
  const csvText = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = events.map((e) =>
    ["copy-baseline", e.id, e.ts, e.kind, e.channel, e.campaign, e.ad, e.country, e.city, e.cost, e.revenue]
      .map(csvText)
      .join(","),
  );
  writeFileSync(file, `${lines.join("\n")}\n`);
  try {
    const started = performance.now();
    await psqlCopyAdEvents(databaseUrl, file);
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: events.length / seconds, seconds };
  } finally {
    rmSync(file, { force: true });
  }
}

// ------------------------------------------------------------------------------------------ 2. top-100

const TOP_PATH = "/v1/ads/top?window=1m&limit=100";

async function topLatency(
  edge: string,
  tenant: Tenant,
  seconds: number,
  edgePid: number | undefined,
): Promise<void> {
  const callers = 4;
  const measureSeconds = Math.min(seconds, 10);
  // Quiet: the current minute filled by a burst of events, then only readers.
  const burst = new EventStream(buildCatalogue({ seed: 1 }), {
    seed: 2,
    runId: `top${RUN_ID}`,
    lateRatio: 0,
  });
  for (let i = 0; i < 30; i++) {
    const events = Array.from({ length: BATCH }, () => burst.next(Date.now()));
    await postBatch(edge, tenant, JSON.stringify({ events }));
  }
  await Bun.sleep(1500);
  report(`${callers} callers, quiet`, await readTop(edge, tenant, callers, measureSeconds));
  report(`quiet, open loop ${OPEN_RATE}/s`, await readTopOpen(edge, tenant, measureSeconds));
  // Context: the same edge answering an authenticated request that reads nothing else (auth round trip only).
  report(
    `${callers} callers, quiet`,
    await readTop(edge, tenant, callers, measureSeconds, "/v1/meta"),
    "/v1/meta (auth only, for comparison)",
  );

  // Busy: another process sends 2,000 events/s for the same tenant through the same edge meanwhile.
  const traffic = Bun.spawn(
    [
      process.execPath,
      "src/cli/generate.ts",
      "--edge",
      edge,
      "--key",
      tenant.apiKey,
      "--rate",
      "2000",
      "--duration",
      "0",
      "--quiet",
    ],
    { cwd: REPO_ROOT, stdout: "ignore", stderr: "ignore" },
  );
  try {
    // The edge's CPU for the events alone (no reads yet), once the generator is under way: what each batch
    // takes from the event loop that also answers the reads.
    await Bun.sleep(1000);
    const cpuBefore = cpuMillis(edgePid);
    await Bun.sleep(EVENTS_ALONE_MS);
    const cpuMs = cpuMillis(edgePid) - cpuBefore;
    console.log(
      `  edge CPU while 2,000 events/s arrive in batches of 500 and nothing reads: ` +
        `${((cpuMs / (2 * EVENTS_ALONE_MS)) * 1000).toFixed(2)} ms per 1,000 events ` +
        `(${((100 * cpuMs) / EVENTS_ALONE_MS).toFixed(1)}% of a core)`,
    );
    report(
      `${callers} callers, 2,000 events/s arriving`,
      await readTop(edge, tenant, callers, measureSeconds),
    );
    report(
      `2,000 events/s arriving, open loop ${OPEN_RATE}/s`,
      await readTopOpen(edge, tenant, measureSeconds),
    );
  } finally {
    traffic.kill("SIGINT");
    await traffic.exited;
  }

  function report(
    label: string,
    result: { latencies: number[]; errors: number; full: number },
    path: string = TOP_PATH,
  ) {
    const { latencies, errors, full } = result;
    const [p50, p99] = [percentile(latencies, 50), percentile(latencies, 99)];
    console.log(
      `  GET ${path} through the edge, ${label}: ` +
        `${count(latencies.length)} requests${path === TOP_PATH ? ` (${count((100 * full) / Math.max(latencies.length, 1))}% with 100 ads)` : ""}, ` +
        `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ${errors} errors — target p99 ≤ 5 ms: ` +
        `${p99 <= 5 && errors === 0 ? "met" : "NOT met"}`,
    );
  }
}

async function readTop(edge: string, tenant: Tenant, callers: number, seconds: number, path = TOP_PATH) {
  const counts = { errors: 0, full: 0 };
  const { latencies } = await closedLoop(callers, seconds, () => getTop(edge, tenant, path, counts));
  return { latencies, ...counts };
}

/** How long the edge's CPU is measured with events arriving and no reads. */
const EVENTS_ALONE_MS = 5000;

/** Dashboards polling at a steady rate: requests start on schedule, not when the previous one answered. */
const OPEN_RATE = 500;

async function readTopOpen(edge: string, tenant: Tenant, seconds: number) {
  const counts = { errors: 0, full: 0 };
  const { latencies } = await openLoop(OPEN_RATE, seconds, () => getTop(edge, tenant, TOP_PATH, counts));
  return { latencies, ...counts };
}

async function getTop(edge: string, tenant: Tenant, path: string, counts: { errors: number; full: number }) {
  const response = await fetch(`${edge}${path}`, {
    headers: { authorization: `Bearer ${tenant.apiKey}` },
  });
  const body = (await response.json()) as { data?: unknown[] };
  if (response.status !== 200) counts.errors++;
  else if (body.data?.length === 100) counts.full++;
}

async function postBatch(edge: string, tenant: Tenant, body: string): Promise<boolean> {
  const response = await fetch(`${edge}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" },
    body,
  });
  await response.arrayBuffer();
  return response.status === 202;
}

// ------------------------------------------------------------------------------------- 3. 30-day query

const BIG_TENANT = "bench-big";

async function groupByQuery(
  wh: Warehouse,
  databaseUrl: string,
  events: number,
  rounds: number,
): Promise<void> {
  const seedStarted = performance.now();
  await seedBigTenant(wh, events);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const [sizes] = await wh.sql`
    select (select count(*) from ad_rollup_day_campaign where tenant_id = ${BIG_TENANT})::int as campaign,
           (select count(*) from ad_rollup_day where tenant_id = ${BIG_TENANT})::int as day,
           (select count(*) from ad_rollup_minute where tenant_id = ${BIG_TENANT})::int as minute`;
  const { campaign, day, minute } = sizes as { campaign: number; day: number; minute: number };
  console.log(
    `  seeded ${count(events)} events over 30 days (100 ads, 20 places) with generate_series and folded the rollups` +
      ` in ${seedSeconds.toFixed(0)} s: ${count(campaign)} campaign day-rollup rows, ${count(day)} day-rollup rows,` +
      ` ${count(minute)} minute-rollup rows`,
  );
  const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const dateRange: [string, string] = [isoDay(today - 30 * DAY), isoDay(today - DAY)];
  const questions: { label: string; query: Query }[] = [
    {
      label: "campaign x channel x country, 3 measures",
      query: {
        measures: ["clicks", "spend", "conversions"],
        dimensions: ["campaign", "channel", "country"],
        timeDimension: { dateRange },
        limit: 10_000,
      },
    },
    {
      label: "day x channel x country, 7 measures",
      query: {
        measures: ["impressions", "clicks", "conversions", "spend", "revenue", "ctr", "roas"],
        dimensions: ["channel", "country"],
        timeDimension: { granularity: "day", dateRange },
        limit: 10_000,
      },
    },
  ];
  for (const { label, query } of questions) {
    const parsed = parseQuery(query, { now: Date.now() });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    // Measured in rounds over the one seeded tenant: seeding takes minutes, the measurement seconds.
    for (let round = 1; round <= rounds; round++) await timeGroupBy(databaseUrl, parsed.query, label, round);
  }
}

/** One round: the query from the compiler's rollup and from raw events, each cold then warm. */
async function timeGroupBy(databaseUrl: string, query: Query, label: string, round: number): Promise<void> {
  const timings: Record<string, { connect: number; cold: number; warm: number; rows: unknown[] }> = {};
  for (const useRollups of [true, false]) {
    const compiled = compileQuery(query, { tenantId: BIG_TENANT, now: Date.now(), useRollups });
    // A fresh connection: no plan or catalogue cache from earlier statements. Opened (and timed) apart from the
    // first run, as the query actor's pooled connections are: cold is the query's own first run.
    const fresh = openWarehouse(databaseUrl, { max: 1 });
    const opening = performance.now();
    await fresh.sql`select 1`;
    const connect = performance.now() - opening;
    const time = async (sql: Warehouse["sql"]) => {
      const t0 = performance.now();
      const rows = await sql.unsafe(compiled.text, compiled.params as never[]);
      return { ms: performance.now() - t0, rows: decodeRows(compiled.columns, rows) };
    };
    const cold = await time(fresh.sql);
    // The median of the warm runs: five from a rollup, three from raw (each takes seconds).
    const warm: number[] = [];
    for (let i = 0; i < (useRollups ? 5 : 3); i++) warm.push((await time(fresh.sql)).ms);
    await fresh.close();
    warm.sort((a, b) => a - b);
    timings[compiled.source] = {
      connect,
      cold: cold.ms,
      warm: warm[warm.length >> 1] as number,
      rows: cold.rows,
    };
  }
  const source = Object.keys(timings).find((name) => name !== "raw");
  const rollup = source ? timings[source] : undefined;
  const raw = timings.raw;
  if (!rollup || !raw) throw new Error(`expected a rollup and raw, got ${Object.keys(timings).join(", ")}`);
  const same = JSON.stringify(rollup.rows) === JSON.stringify(raw.rows);
  const speedup = raw.cold / rollup.cold;
  console.log(
    `  round ${round}: 30-day group-by (${label}, ${rollup.rows.length} rows): ` +
      `${source} cold ${rollup.cold.toFixed(1)} ms (connecting took ${rollup.connect.toFixed(1)} ms more) / ` +
      `warm ${rollup.warm.toFixed(1)} ms, raw cold ${raw.cold.toFixed(0)} ms / warm ${raw.warm.toFixed(0)} ms; ` +
      `same answer: ${same ? "yes" : "NO"}`,
  );
  console.log(
    `  rollup speed-up ${speedup.toFixed(1)}x cold, ${(raw.warm / rollup.warm).toFixed(1)}x warm — ` +
      `target ≥ 20x and ≤ 50 ms: ${speedup >= 20 && rollup.cold <= 50 && same ? "met" : "NOT met"}`,
  );
}

/**
 * Raw events with generate_series (ads skewed by random()^3, places by random()^2, impressions ≫ clicks ≫
 * conversions), in chunks, then every rollup (`ROLLUPS`) folded from them exactly as ingestion would have.
 */
async function seedBigTenant(wh: Warehouse, events: number): Promise<void> {
  const sql = wh.sql;
  await sql`select fairway_ensure_day_partitions('ad_events'::regclass, current_date - 31, current_date)`;
  await sql`select fairway_ensure_day_partitions('ad_rollup_minute'::regclass, current_date - 31, current_date)`;
  const chunk = 1_000_000;
  for (let offset = 0; offset < events; offset += chunk) {
    const count = Math.min(chunk, events - offset);
    await sql.unsafe(
      `INSERT INTO ad_events (tenant_id, event_id, ts, kind, channel, campaign, ad, country, city, cost, revenue)
       SELECT $1, 'e' || g, ts, kind,
         (ARRAY['google','facebook','instagram','tiktok','twitter','linkedin','youtube','email'])[1 + ad % 8],
         'campaign-' || (ad % 12), 'ad-' || ad,
         (ARRAY['US','US','US','GB','DE','FR','ES','IT','BR','IN','JP','CA','MX','AU','NL','SE','PL','KR','SG','ZA'])[1 + place],
         'city-' || place,
         CASE kind WHEN 'impression' THEN 0.004 WHEN 'click' THEN 0.85 ELSE 0 END,
         CASE kind WHEN 'conversion' THEN 42.5 ELSE 0 END
       FROM (
         SELECT g, (current_date - 30)::timestamptz + random() * interval '30 days' AS ts,
           floor(100 * random() ^ 3)::int AS ad, floor(20 * random() ^ 2)::int AS place,
           CASE WHEN r < 0.001 THEN 'conversion' WHEN r < 0.03 THEN 'click' WHEN r < 0.09 THEN 'view'
                ELSE 'impression' END AS kind
         FROM (SELECT g, random() AS r FROM generate_series($2::int, $3::int) g) s
       ) x`,
      [BIG_TENANT, offset + 1, offset + count],
    );
  }
  for (const { table, grain, dimensions } of ROLLUPS) {
    const key = ["tenant_id", "bucket", ...dimensions];
    await sql.unsafe(
      `INSERT INTO ${table} (${key.join(", ")}, impressions, views, clicks, conversions, spend, revenue)
       SELECT tenant_id, date_trunc('${grain}', ts, 'UTC'), ${dimensions.join(", ")},
         count(*) FILTER (WHERE kind = 'impression'), count(*) FILTER (WHERE kind = 'view'),
         count(*) FILTER (WHERE kind = 'click'), count(*) FILTER (WHERE kind = 'conversion'), sum(cost), sum(revenue)
       FROM ad_events WHERE tenant_id = $1 GROUP BY ${key.map((_, i) => i + 1).join(", ")}`,
      [BIG_TENANT],
    );
  }
  await sql.unsafe(`VACUUM ANALYZE ad_events, ${ROLLUPS.map((rollup) => rollup.table).join(", ")}`);
  await settle(wh);
}

/** A checkpoint, then up to 60 s for autovacuum to finish with this database, so a baseline runs on a quiet server. */
async function settle(wh: Warehouse): Promise<void> {
  await wh.sql`CHECKPOINT`;
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    const busy = await wh.sql`
      select 1 from pg_stat_activity where backend_type = 'autovacuum worker' and datname = current_database()`;
    if (busy.length === 0) return;
    await Bun.sleep(500);
  }
}

// ------------------------------------------------------------------------------------------------ helpers

async function createTenant(edge: string, name: string): Promise<Tenant> {
  const response = await fetch(`${edge}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, rateLimit: 1_000_000 }),
  });
  if (response.status !== 201) throw new Error(`create tenant: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as Tenant;
  return { id: created.id, apiKey: created.apiKey };
}

// Influencer collection under load: N influencers polled every second through the whole path (QStash broker →
// actors host collector → Mockstagram → Redis stream → sink → Postgres), then the same points written straight
// into the warehouse with the sink's multi-row insert, for comparison.
//   npm run bench -- influencers [--influencers 1000] [--seconds 20] [--interval 1]
// Reported: points/s landed in Postgres over the steady window, tick lag (when the provider was asked minus the
// tick's scheduled time) p50 / p99 / max, ticks missed (a tick that starts too late to read the provider before the next one collects nothing), and the
// direct insert's points/s. Loopback only; the broker, the bridge and the actors host run as child processes
// (one core each, as deployed), Mockstagram in this process.
// Env: REDIS_URL (redis://127.0.0.1:6379), DATABASE_URL (the dev database; the bench's rows are deleted after);
// BENCH_PROFILE=actors|qstash|redis-rest writes that child's CPU profile to .fairway/profiles; BENCH_LOG=<file>
// keeps the children's log lines; BENCH_LAG_SERIES=1 prints the tick lag second by second.
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { Client } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { stopInfluencer } from "../src/domain/influencers/registry.ts";
import type { RawPoint } from "../src/domain/influencers/series.ts";
import { startTracking } from "../src/domain/influencers/tracking.ts";
import { tenantTag } from "../src/domain/keys.ts";
import { startMockstagram } from "../src/local/mockstagram/server.ts";
import { DEV_CREDENTIALS } from "../src/local/qstash/config.ts";
import { BrokerStore } from "../src/local/qstash/store/broker-store.ts";
import { RedisLink } from "../src/local/qstash/store/redis-link.ts";
import { REPO_ROOT } from "../src/local/services/dev-stack.ts";
import { freePort } from "../src/local/services/ports.ts";
import { type RunningChild, startChild } from "../src/local/services/supervisor.ts";
import { createPublisher } from "../src/publisher/index.ts";
import { databaseUrlFromEnv, openWarehouse } from "../src/warehouse/db.ts";
import { InfluencerPartitions, writeInfluencerBatch } from "../src/warehouse/influencers.ts";
import { migrate } from "../src/warehouse/migrate.ts";
import { option } from "./support/output.ts";
import { cpuMillis } from "./support/processes.ts";
import { percentile } from "./support/stats.ts";

/** Fresh processes (JIT, connection pools) and the first ticks of every loop settle before measuring. */
const WARM_UP_MS = 10_000;

export async function run(args: string[]): Promise<void> {
  const count = Number(option(args, "--influencers") ?? 1000);
  const seconds = Number(option(args, "--seconds") ?? 20);
  const intervalSeconds = Number(option(args, "--interval") ?? 1);
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = databaseUrlFromEnv();
  const id = crypto.randomUUID().slice(0, 8);
  const tenantId = `bench-${id}`;
  const restToken = `bench-${id}`;
  const brokerPrefix = `bench-influencers-${id}`;
  const stream = `bench:influencer-points:${id}`;
  const ids = Array.from({ length: count }, (_, i) => String(3_000_000 + i));

  await migrate(databaseUrl);
  const warehouse = openWarehouse(databaseUrl, { max: 2 });
  await warehouse.sql`insert into tenants (id, name, api_key_hash) values (${tenantId}, 'influencer bench', ${randomBytes(32).toString("hex")})`;

  // When Mockstagram was asked, per influencer: the tick lag is measured against the loop's grid.
  const asked = new Map<string, number[]>();
  const mock = startMockstagram({
    port: 0,
    onRequest: (who, at) => asked.get(who)?.push(at) ?? asked.set(who, [at]),
  });
  const children: RunningChild[] = [];
  const quiet = process.env.BENCH_LOG
    ? (line: string) => appendFileSync(process.env.BENCH_LOG as string, `${Date.now()} ${line}\n`)
    : () => {};
  const [bridgePort, brokerPort, actorsPort] = [await freePort(), await freePort(), await freePort()];
  const start = (name: string, file: string, env: Record<string, string>) =>
    startChild({
      name,
      command: [process.execPath, ...profile(name), file],
      cwd: REPO_ROOT,
      env,
      log: quiet,
    }).then((child) => {
      children.push(child);
      return child;
    });
  const link = await RedisLink.open(redisUrl, `bench-influencers-${id}`);
  const store = new BrokerStore(link, brokerPrefix);
  const redis = new Redis({ url: `http://127.0.0.1:${bridgePort}`, token: restToken, retry: false });

  try {
    await Promise.all([
      start("redis-rest", "src/local/redis-rest/main.ts", {
        REDIS_URL: redisUrl,
        PORT: String(bridgePort),
        TOKEN: restToken,
      }),
      start("qstash", "src/local/qstash/main.ts", {
        REDIS_URL: redisUrl,
        PORT: String(brokerPort),
        QSTASH_KEY_PREFIX: brokerPrefix,
      }),
      start("actors", "actors/main.ts", {
        PORT: String(actorsPort),
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_MAX: "4",
        UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${bridgePort}`,
        UPSTASH_REDIS_REST_TOKEN: restToken,
        QSTASH_URL: `http://127.0.0.1:${brokerPort}`,
        INFLUENCER_PROVIDER_URL: mock.url,
        INFLUENCER_STREAM_KEY: stream,
        INFLUENCER_TICK_PRECISION_MS: "1",
      }),
    ]);
    const publisher = createPublisher({
      client: new Client({
        baseUrl: `http://127.0.0.1:${brokerPort}`,
        token: DEV_CREDENTIALS.token,
        retry: false,
      }),
      actorsUrl: `http://127.0.0.1:${actorsPort}`,
    });

    console.log(
      `influencer benchmark: ${count} influencers every ${intervalSeconds} s for ${seconds} s (+${WARM_UP_MS / 1000} s warm-up); Redis ${redisUrl}, Postgres ${new URL(databaseUrl).pathname.slice(1)}; ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(2)}`,
    );
    const trackedAt = Date.now();
    const { registrations, unpublished } = await startTracking(
      redis,
      ({ body, ...options }) => publisher.publish({ actor: "collector", body, ...options }),
      { tenantId, influencerIds: ids, intervalSeconds, precisionMs: 1, now: trackedAt },
    );
    if (unpublished.length > 0)
      throw new Error(`${unpublished.length} first ticks not published: ${unpublished[0]?.error}`);
    const firstTick = new Map(registrations.map((r) => [r.influencerId, r.nextTickAt]));
    console.log(`  registered and published ${count} first ticks in ${Date.now() - trackedAt} ms`);

    /** Ticks the loops skipped or ran too late to read, so far (the registry's counters). */
    const missedTicks = async () => {
      const pipeline = redis.pipeline();
      for (const who of ids) pipeline.hget(`${tenantTag(tenantId)}:influencer:${who}`, "missed");
      return ((await pipeline.exec()) as unknown[]).reduce<number>((sum, n) => sum + (Number(n) || 0), 0);
    };
    const rows = async () =>
      Number(
        (await warehouse.sql`select count(*) from influencer_metrics where tenant_id = ${tenantId}`)[0]
          ?.count,
      );
    await Bun.sleep(trackedAt + intervalSeconds * 1000 + WARM_UP_MS - Date.now());
    const windowStart = Date.now();
    const missedAtStart = await missedTicks();
    const cpuAtStart = cpuTimes(children);
    const rowsAtStart = await rows();
    const backlog: number[] = [];
    while (Date.now() - windowStart < seconds * 1000) {
      await Bun.sleep(1000);
      backlog.push(await redis.xlen(stream));
    }
    const windowEnd = Date.now();
    const cpuAtEnd = cpuTimes(children);
    const missedInWindow = (await missedTicks()) - missedAtStart;
    const landed = (await rows()) - rowsAtStart;
    const throughput = landed / ((windowEnd - windowStart) / 1000);

    const stoppedAt = Date.now();
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((who) => stopInfluencer(redis, tenantId, who, stoppedAt)));
    }
    await waitUntil(
      async () => (await store.liveMessageIds()).length === 0 && (await redis.xlen(stream)) === 0,
      30_000,
    );

    // Tick lag over the measured window: when the provider was asked, against the grid time just before.
    const step = intervalSeconds * 1000;
    const lags: number[] = [];
    for (const who of ids) {
      const first = firstTick.get(who) as number;
      for (const at of asked.get(who) ?? []) {
        if (at < windowStart || at >= windowEnd) continue;
        lags.push((((at - first) % step) + step) % step);
      }
    }
    if (process.env.BENCH_LAG_SERIES) {
      const perSecond = new Map<number, number[]>();
      for (const who of ids) {
        const first = firstTick.get(who) as number;
        for (const at of asked.get(who) ?? []) {
          const sec = Math.floor((at - windowStart) / 1000);
          const lag = (((at - first) % step) + step) % step;
          perSecond.set(sec, [...(perSecond.get(sec) ?? []), lag]);
        }
      }
      for (const [sec, l] of [...perSecond].sort((a, b) => a[0] - b[0])) {
        l.sort((a, b) => a - b);
        console.log(
          `  second ${sec}: ${l.length} asks, lag p50 ${percentile(l, 50)} p99 ${percentile(l, 99)}`,
        );
      }
    }
    lags.sort((a, b) => a - b);
    const missed = missedInWindow;
    const expectedTicks = count * ((windowEnd - windowStart) / step);

    // The same points, written straight into the warehouse with the sink's statement and batch size.
    const stored = await warehouse.sql<
      {
        influencer_id: string;
        ms: string;
        followers: string;
        following: string;
        posts: string;
        likes: string;
        comments: string;
        views: string | null;
      }[]
    >`
      select influencer_id, (extract(epoch from ts) * 1000)::bigint as ms, followers, following, posts, likes, comments, views
      from influencer_metrics where tenant_id = ${tenantId}`;
    const points = stored.map((row) => {
      const counters = {
        followers: Number(row.followers),
        following: Number(row.following),
        posts: Number(row.posts),
        likes: Number(row.likes),
        comments: Number(row.comments),
        views: row.views === null ? null : Number(row.views),
      } as Omit<RawPoint, "ts">;
      return { tenantId, influencerId: row.influencer_id, ts: Number(row.ms), counters };
    });
    await warehouse.sql`delete from influencer_metrics where tenant_id = ${tenantId}`;
    await new InfluencerPartitions().ensureFor(warehouse.db, points);
    const directStarted = performance.now();
    for (let i = 0; i < points.length; i += 1000)
      await writeInfluencerBatch(warehouse.sql, points.slice(i, i + 1000), []);
    const directSeconds = (performance.now() - directStarted) / 1000;
    const direct = points.length / directSeconds;

    const format = (n: number) => Math.round(n).toLocaleString("en-US");
    console.log(
      `  collector + sink       ${format(throughput)} points/s landed in Postgres (${format(landed)} in ${((windowEnd - windowStart) / 1000).toFixed(1)} s; offered ${format(count / intervalSeconds)}/s)`,
    );
    console.log(
      `  tick lag               p50 ${percentile(lags, 50)} ms   p99 ${percentile(lags, 99)} ms   max ${lags.at(-1)} ms   (${format(lags.length)} ticks)`,
    );
    console.log(
      `  ticks missed           ${format(missed)} of ~${format(expectedTicks)} (skipped, or started too late to read before the next tick)`,
    );
    console.log(
      `  stream backlog         max ${format(Math.max(...backlog))} entries, last ${format(backlog.at(-1) ?? 0)} (what the sink had not written yet, sampled each second)`,
    );
    const cpu = [...cpuAtEnd].map(
      ([name, ms]) => `${name} ${((ms - (cpuAtStart.get(name) ?? 0)) / Math.max(1, landed)).toFixed(2)}`,
    );
    console.log(`  CPU ms per point       ${cpu.join(", ")} (Redis and Postgres servers not counted)`);
    console.log(
      `  direct multi-row insert ${format(direct)} points/s (${format(points.length)} points, batches of 1000, one statement each)`,
    );
    console.log("");
    const p99 = percentile(lags, 99);
    console.log(
      `  load average at the end ${loadavg()[0]?.toFixed(2)} (other work on the machine competes for its cores)`,
    );
    console.log(
      `target: ≥ 1,000 influencers at 1 s with tick lag p99 < 500 ms: ${count >= 1000 && intervalSeconds <= 1 && p99 < 500 && throughput >= (0.97 * count) / intervalSeconds ? "met" : "NOT met"} (${count} influencers, p99 ${p99} ms, ${format(throughput)} points/s); collector + sink = ${((throughput / direct) * 100).toFixed(1)}% of the direct insert's rate`,
    );
  } finally {
    for (const child of children.reverse()) await child.stop();
    await mock.stop();
    await warehouse.sql`delete from influencer_metrics where tenant_id = ${tenantId}`;
    await warehouse.sql`delete from tenants where id = ${tenantId}`;
    await warehouse.close();
    await store.destroyAll();
    const tenantKeys = (await link.call(["KEYS", `${tenantTag(tenantId)}*`])) as Buffer[];
    for (let i = 0; i < tenantKeys.length; i += 500)
      await link.call(["DEL", ...tenantKeys.slice(i, i + 500).map(String)]);
    await link.call(["DEL", stream]);
    await link.close();
  }
}

/** User + system CPU time (ms) so far of each child and of this process (Mockstagram), from /proc. */
function cpuTimes(children: readonly RunningChild[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const child of children) times.set(child.name, cpuMillis(child.pid));
  times.set("bench + mockstagram", cpuMillis(process.pid));
  return times;
}

async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("the loops did not end in time");
    await Bun.sleep(200);
  }
}

/** `BENCH_PROFILE=actors` (or qstash, redis-rest): that child writes a markdown CPU profile to .fairway/profiles. */
function profile(name: string): string[] {
  return process.env.BENCH_PROFILE === name ? ["--cpu-prof-md", "--cpu-prof-dir=.fairway/profiles"] : [];
}

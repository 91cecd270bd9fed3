// The whole query path through HTTP with the real query actor: edge app → REST bridge → QStash broker →
// actors host (tenant semaphore, warehouse semaphore, Postgres) → cache + completion stream → edge.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { warehouseKeysFor } from "../../../actors/lanes/warehouse-semaphore.ts";
import { createQueryActor } from "../../../actors/query.ts";
import { newLeaseToken } from "../../../actors/semaphore/semaphore.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import { keys } from "../../../src/domain/keys.ts";
import { compileQuery, decodeRows, type Query } from "../../../src/domain/query/index.ts";
import { openWarehouse, type Warehouse } from "../../../src/warehouse/db.ts";
import { migrate } from "../../../src/warehouse/migrate.ts";
import { ensurePartitions } from "../../../src/warehouse/partitions.ts";
import { type EventToStore, eventDaySpan, insertEventsWithRollups } from "../../../src/warehouse/rollups.ts";
import { throwawayDatabase } from "../../warehouse/helpers.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";

const run = crypto.randomUUID().slice(0, 8);
const database = throwawayDatabase();
let warehouse: Warehouse;
let h: EdgeHarness;
let tenant: { id: string; apiKey: string };
let other: { id: string; apiKey: string };
let serial = 0;

beforeAll(async () => {
  await migrate(database.url);
  warehouse = openWarehouse(database.url, { max: 2 });
  const queryActor = createQueryActor({
    warehouseConcurrency: 4,
    defaultTenantConcurrency: 2,
    leaseTtlMs: 10_000,
    statementTimeoutMs: 1_500,
    holdMs: 500,
    pollMs: 50,
    parkDelayMs: 1_000,
    transientRetries: 0,
    warehouseKeys: warehouseKeysFor(`{edge-e2e-${run}}:wh:sem`),
  });
  h = await startHarness({ actors: [tenantSyncActor, queryActor], databaseUrl: database.url });
  tenant = await h.createTenant({ name: "e2e", concurrencyLimit: 2 });
  other = await h.createTenant({ name: "e2e other" });
  await seed(tenant.id, events(tenant.id, 0, 400));
  await seed(other.id, events(other.id, 0, 50));
}, 60_000);

afterAll(async () => {
  const found = await h.redis.keys(`{edge-e2e-${run}}*`);
  if (found.length > 0) await h.redis.del(...found);
  await h.stop();
  await warehouse.close();
  await database.drop();
});

function events(tenantId: string, from: number, count: number): EventToStore[] {
  const kinds = ["impression", "impression", "impression", "view", "click", "conversion"] as const;
  const start = Date.UTC(2026, 10, 1);
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      eventId: `${tenantId}-${i}`,
      ts: new Date(start + ((i * 7919) % (2 * 86_400)) * 1000),
      kind: kinds[i % kinds.length] as (typeof kinds)[number],
      channel: ["google", "meta", "tiktok"][i % 3] as string,
      campaign: `c${i % 4}`,
      ad: `ad${i % 9}`,
      country: ["US", "FR", "DE"][i % 3] as string,
      city: ["Austin", "Paris", "Berlin"][i % 3] as string,
      cost: String((i % 5) * 0.25),
      revenue: String(i % 6 === 5 ? 3 : 0),
    };
  });
}

async function seed(tenantId: string, rows: EventToStore[]): Promise<void> {
  const span = eventDaySpan(rows);
  if (span) {
    await ensurePartitions(warehouse.db, "ad_events", span[0], span[1]);
    await ensurePartitions(warehouse.db, "ad_rollup_minute", span[0], span[1]);
  }
  await insertEventsWithRollups(warehouse.db, tenantId, rows);
}

/** A question no other test asks (its own limit), so each test starts from an empty cache. */
function freshQuery(): Query {
  serial += 1;
  return {
    measures: ["impressions", "clicks", "spend", "ctr"],
    dimensions: ["channel"],
    timeDimension: { granularity: "day", dateRange: ["2026-11-01", "2026-11-02"] },
    limit: 500 + serial,
  };
}

async function direct(tenantId: string, query: Query) {
  const compiled = compileQuery(query, { tenantId, now: Date.now() });
  return decodeRows(compiled.columns, await warehouse.sql.unsafe(compiled.text, compiled.params as never[]));
}

function post(body: unknown, options: { key?: string; wait?: string } = {}) {
  return h.request(`/v1/queries${options.wait === undefined ? "" : `?wait=${options.wait}`}`, {
    method: "POST",
    key: options.key ?? tenant.apiKey,
    body: JSON.stringify(body),
  });
}

/** Completion events on a tenant's stream: one per warehouse execution. */
async function executions(tenantId: string): Promise<string[]> {
  const entries = (await h.redis.xrange(keys.done(tenantId), "-", "+")) as Record<
    string,
    { queryId: string }
  >;
  return Object.values(entries).map((event) => event.queryId);
}

describe("the query path with the real query actor", () => {
  test("miss then hit: the rows are the warehouse's own answer, computed once", async () => {
    const query = freshQuery();
    const first = await post(query, { wait: "10s" });
    expect(first.status).toBe(200);
    const miss = await json(first);
    expect(miss.meta.cache).toBe("miss");
    const expected = await direct(tenant.id, query);
    expect(expected.length).toBeGreaterThan(2);
    expect(miss.data).toEqual(expected);

    const hit = await json(await post(query));
    expect(hit.meta).toMatchObject({ cache: "hit", queryId: miss.meta.queryId });
    expect(hit.data).toEqual(expected);
    expect((await executions(tenant.id)).filter((id) => id === miss.meta.queryId)).toHaveLength(1);
  });

  test("wait then poll: 202 with the lane position while the tenant's permits are taken, then 200 by GET", async () => {
    // Both of the tenant's permits (limit 2) held by someone else: the query waits in the lane.
    const blockers = [newLeaseToken(), newLeaseToken()];
    for (const member of blockers) {
      await h.redis.zadd(keys.semaphore(tenant.id), { score: Date.now() + 60_000, member });
    }
    let released = false;
    try {
      const query = freshQuery();
      const response = await post(query, { wait: "300ms" });
      expect(response.status).toBe(202);
      const { id } = await json(response);
      expect(response.headers.get("location")).toBe(`/v1/queries/${id}`);
      const queued = await waitFor("a lane position", async () => {
        const body = await json(await h.request(`/v1/queries/${id}?wait=0`, { key: tenant.apiKey }));
        return body.position === 1 ? body : undefined;
      });
      expect(queued).toEqual({ id, status: "queued", position: 1 });

      const poll = h.request(`/v1/queries/${id}?wait=15s`, { key: tenant.apiKey });
      await Bun.sleep(100);
      await h.redis.zrem(keys.semaphore(tenant.id), ...blockers);
      released = true;
      const answer = await poll;
      expect(answer.status).toBe(200);
      const body = await json(answer);
      expect(body.meta).toMatchObject({ cache: "miss", queryId: id });
      expect(body.data).toEqual(await direct(tenant.id, query));
    } finally {
      if (!released) await h.redis.zrem(keys.semaphore(tenant.id), ...blockers);
    }
  }, 30_000);

  test("a warehouse error is a 422 with a safe message for the asker and for pollers, and is not cached", async () => {
    const locker = await warehouse.sql.reserve();
    await locker`begin`;
    // An exclusive lock on the day rollups keeps the query waiting past its statement timeout.
    await locker`lock table ad_rollup_day, ad_rollup_day_campaign in access exclusive mode`;
    try {
      const query = freshQuery();
      const response = await post(query, { wait: "10s" });
      expect(response.status).toBe(422);
      const { error } = await json(response);
      const { queryId } = error;
      expect(error.code).toBe("query_failed");
      expect(error.message).toMatch(/longer than|timeout/i);
      expect(error.message).not.toMatch(/select|ad_rollup|\$1/i);
      expect((await h.request(`/v1/queries/${queryId}`, { key: tenant.apiKey })).status).toBe(422);
      await locker`rollback`;
      // Asked again once the warehouse is free: computed again, not the cached error.
      const retried = await post(query, { wait: "10s" });
      expect(retried.status).toBe(200);
    } finally {
      await locker`rollback`.catch(() => {});
      locker.release();
    }
  }, 30_000);

  test("new data (a data version bump) is never hidden behind the old answer", async () => {
    const query = freshQuery();
    const before = await json(await post(query, { wait: "10s" }));
    await seed(tenant.id, events(tenant.id, 10_000, 120));
    await h.redis.incr(keys.dataVersion(tenant.id));
    const after = await json(await post(query, { wait: "10s" }));
    expect(after.meta).toMatchObject({ cache: "miss", dataVersion: before.meta.dataVersion + 1 });
    expect(after.data).toEqual(await direct(tenant.id, query));
    expect(after.data).not.toEqual(before.data);
  });

  test("cache modes: no-cache computes again; stale-while-revalidate answers stale at once and refreshes", async () => {
    const query = freshQuery();
    const first = await json(await post(query, { wait: "10s" }));
    const forced = await json(await post({ ...query, cache: "no-cache" }, { wait: "10s" }));
    expect(forced.meta.cache).toBe("miss");
    expect(forced.meta.queryId).not.toBe(first.meta.queryId);

    await h.redis.incr(keys.dataVersion(tenant.id));
    const staleResponse = await post({ ...query, cache: "stale-while-revalidate" });
    const stale = await json(staleResponse);
    expect(stale.meta).toMatchObject({ cache: "stale", queryId: forced.meta.queryId });
    const refresh = staleResponse.headers.get("fairway-refresh-query");
    const refreshed = await waitFor("the refreshed answer", async () => {
      const body = await json(await post(query, { wait: "0" }));
      return body.meta?.cache === "hit" ? body : undefined;
    });
    expect(refreshed.meta.queryId).toBe(refresh);
    const ids = await executions(tenant.id);
    expect([first.meta.queryId, forced.meta.queryId, refresh].every((id) => ids.includes(id))).toBe(true);
  });

  test("another tenant's query id is a 404, and the other tenant gets its own numbers", async () => {
    const query = freshQuery();
    const mine = await json(await post(query, { wait: "10s" }));
    expect((await h.request(`/v1/queries/${mine.meta.queryId}`, { key: other.apiKey })).status).toBe(404);
    const theirs = await json(await post(query, { key: other.apiKey, wait: "10s" }));
    expect(theirs.meta.queryId).not.toBe(mine.meta.queryId);
    expect(theirs.data).toEqual(await direct(other.id, query));
    expect(theirs.data).not.toEqual(mine.data);
  });

  test("100 identical concurrent requests: exactly one warehouse execution", async () => {
    const query = freshQuery();
    const before = (await executions(tenant.id)).length;
    const responses = await Promise.all(Array.from({ length: 100 }, () => post(query, { wait: "15s" })));
    const bodies = await Promise.all(responses.map((response) => json(response)));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    const ids = new Set(bodies.map((body) => body.meta.queryId));
    expect(ids.size).toBe(1);
    await Bun.sleep(200); // a second execution would have finished by now
    const after = await executions(tenant.id);
    expect(after.length - before).toBe(1);
    expect(after.at(-1)).toBe([...ids][0]);
  }, 30_000);
});

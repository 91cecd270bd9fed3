// The query path end to end through HTTP: edge app → bridge → broker → actors host (a stand-in query actor
// that follows src/domain/query-jobs.ts) → test warehouse, and back through the completion stream.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import { keys } from "../../../src/domain/keys.ts";
import { collectSnapshot } from "../../../src/domain/monitoring/collect.ts";
import { queryHash } from "../../../src/domain/query/index.ts";
import { queryMeterFor } from "../../../src/edge/routes/stats.ts";
import { waitUntil } from "../../support/wait.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";
import { type StandInControl, standInQueryActor } from "../support/stand-in-query-actor.ts";

let h: EdgeHarness;
let control: StandInControl;
let tenant: { id: string; apiKey: string };
let other: { id: string; apiKey: string };
let serial = 0;

beforeAll(async () => {
  const standIn = standInQueryActor();
  control = standIn.control;
  h = await startHarness({ actors: [tenantSyncActor, standIn.actor] });
  tenant = await h.createTenant({ name: "queries" });
  other = await h.createTenant({ name: "someone else" });
});
afterAll(() => h.stop());

/** A query no other test asks (a distinct limit), so every test starts from an empty cache. */
function freshQuery(extra: Record<string, unknown> = {}) {
  serial += 1;
  return {
    measures: ["clicks", "impressions", "ctr"],
    dimensions: ["channel"],
    limit: 100 + serial,
    ...extra,
  };
}

async function hashOf(query: Record<string, unknown>): Promise<string> {
  const { cache: _mode, ...rest } = query;
  return (await queryHash(rest, Date.now())).hash;
}

/** Runs `use` while the stand-in warehouse holds `query`: it answers once `release` is called, or `use` ends. */
async function whileHeld(
  query: Record<string, unknown>,
  use: (held: { hash: string; release: () => void }) => Promise<void>,
): Promise<void> {
  const hash = await hashOf(query);
  let release = () => {};
  control.holds.set(hash, new Promise<void>((resolve) => (release = resolve)));
  try {
    await use({ hash, release: () => release() });
  } finally {
    release();
    control.holds.delete(hash);
  }
}

function post(
  query: unknown,
  options: { key?: string; wait?: string; headers?: Record<string, string> } = {},
) {
  const search = options.wait === undefined ? "" : `?wait=${options.wait}`;
  return h.request(`/v1/queries${search}`, {
    method: "POST",
    key: options.key ?? tenant.apiKey,
    headers: options.headers,
    body: typeof query === "string" ? query : JSON.stringify(query),
  });
}

describe("cache", () => {
  test("miss then hit: computed once, answered from Redis the second time", async () => {
    const query = freshQuery();
    const first = await post(query);
    expect(first.status).toBe(200);
    const miss = await json(first);
    expect(miss.meta).toMatchObject({ cache: "miss", dataVersion: 0, source: expect.any(String) });
    expect(miss.meta.queryId).toMatch(/^q[0-9a-f]{24}$/);
    expect(miss.meta.columns).toEqual(["channel", "impressions", "clicks", "ctr"]);
    expect(Array.isArray(miss.data)).toBe(true);

    const second = await json(await post(query));
    expect(second.meta).toMatchObject({ cache: "hit", queryId: miss.meta.queryId });
    expect(second.data).toEqual(miss.data);
    expect(control.executionsOf(tenant.id, await hashOf(query))).toBe(1);
  });

  test("monitoring counts how each answer was served", async () => {
    const meter = queryMeterFor(h.services);
    const counts = async () => {
      await meter.flush();
      return (await collectSnapshot(h.redis, { tenants: [tenant.id] })).tenants[0]?.cache;
    };
    const before = await counts();
    const query = freshQuery();
    await post(query);
    await post(query);
    await post(query);
    const after = await counts();
    expect((after?.misses ?? 0) - (before?.misses ?? 0)).toBe(1);
    expect((after?.hits ?? 0) - (before?.hits ?? 0)).toBe(2);
  });

  test("the same question spelled differently hits the same entry", async () => {
    const query = freshQuery();
    await post(query);
    const reordered = {
      limit: query.limit,
      dimensions: ["channel"],
      measures: ["ctr", "impressions", "clicks"],
    };
    expect((await json(await post(reordered))).meta.cache).toBe("hit");
  });

  test("a data version bump retires the entry: the next ask computes again", async () => {
    const query = freshQuery();
    const before = await json(await post(query));
    await h.redis.incr(keys.dataVersion(tenant.id));
    const after = await json(await post(query));
    expect(after.meta.cache).toBe("miss");
    expect(after.meta.dataVersion).toBe(before.meta.dataVersion + 1);
    expect(after.meta.queryId).not.toBe(before.meta.queryId);
    expect(control.executionsOf(tenant.id, await hashOf(query))).toBe(2);
  });

  test("cache: no-cache recomputes even when a fresh entry exists", async () => {
    const query = freshQuery();
    await post(query);
    const forced = await json(await post({ ...query, cache: "no-cache" }));
    expect(forced.meta.cache).toBe("miss");
    expect(control.executionsOf(tenant.id, await hashOf(query))).toBe(2);
  });

  test("cache: stale-while-revalidate answers the stale entry at once and refreshes it once", async () => {
    const query = freshQuery();
    const original = await json(await post(query));
    await h.redis.incr(keys.dataVersion(tenant.id));
    await whileHeld(query, async ({ hash, release }) => {
      const response = await post({ ...query, cache: "stale-while-revalidate" });
      const stale = await json(response);
      expect(stale.meta).toMatchObject({ cache: "stale", queryId: original.meta.queryId });
      const refresh = response.headers.get("fairway-refresh-query");
      expect(refresh).toMatch(/^q[0-9a-f]{24}$/);
      // Asked again while the refresh runs: still stale, and it joins the same refresh.
      const again = await post({ ...query, cache: "stale-while-revalidate" });
      expect(again.headers.get("fairway-refresh-query")).toBe(refresh);
      release();
      const refreshed = await waitFor("the refreshed entry", async () => {
        const body = await json(await post(query, { wait: "0" }));
        return body.meta?.cache === "hit" ? body : undefined;
      });
      expect(refreshed.meta.queryId).toBe(refresh);
      expect(control.executionsOf(tenant.id, hash)).toBe(2);
    });
  });

  test("stale-while-revalidate with nothing cached computes like default", async () => {
    const response = await json(await post({ ...freshQuery(), cache: "stale-while-revalidate" }));
    expect(response.meta.cache).toBe("miss");
  });
});

describe("waiting and polling", () => {
  test("202 with Location and Retry-After when not done in time, then GET ?wait= returns it to every poller", async () => {
    const query = freshQuery();
    await whileHeld(query, async ({ release }) => {
      const started = performance.now();
      const response = await post(query, { wait: "200ms" });
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(response.status).toBe(202);
      const accepted = await json(response);
      expect(accepted).toEqual({ id: expect.stringMatching(/^q[0-9a-f]{24}$/), status: "running" });
      expect(response.headers.get("location")).toBe(`/v1/queries/${accepted.id}`);
      expect(response.headers.get("retry-after")).toBe("1");

      const pollers = [1, 2, 3].map(() =>
        h.request(`/v1/queries/${accepted.id}?wait=5s`, { key: tenant.apiKey }),
      );
      await Bun.sleep(100);
      release();
      const answers = await Promise.all(pollers);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect((await json(answer)).meta).toMatchObject({ cache: "miss", queryId: accepted.id });
      }
      // Reading consumed nothing: a later GET without waiting still has it.
      expect((await h.request(`/v1/queries/${accepted.id}?wait=0`, { key: tenant.apiKey })).status).toBe(200);
    });
  });

  test("GET /v1/queries/:id/events streams status, then the result, then ends", async () => {
    const query = freshQuery();
    await whileHeld(query, async ({ release }) => {
      const { id } = await json(await post(query, { wait: "0" }));
      // The actor marks the query running only once it picks the job up; until then `queued` is the truth.
      await waitUntil(
        "the held query to be running",
        async () => (await h.redis.hget(keys.query(tenant.id, id), "status")) === "running",
      );
      const response = await h.request(`/v1/queries/${id}/events`, { key: tenant.apiKey });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const text = response.text();
      await Bun.sleep(100);
      release();
      const events = (await text)
        .trim()
        .split("\n\n")
        .map((block) => ({
          event: /^event: (.*)$/m.exec(block)?.[1],
          data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null"),
        }));
      expect(events[0]).toEqual({ event: "status", data: { id, status: "running" } });
      const last = events.at(-1);
      expect(last?.event).toBe("result");
      expect(last?.data.meta).toMatchObject({ cache: "miss", queryId: id });
      expect((await h.request(`/v1/queries/${id}/events`, { key: other.apiKey })).status).toBe(404);
    });
  });

  test("GET with wait=0 answers at once with the status", async () => {
    const query = freshQuery();
    await whileHeld(query, async () => {
      const { id } = await json(await post(query, { wait: "0" }));
      const started = performance.now();
      const response = await h.request(`/v1/queries/${id}?wait=0`, { key: tenant.apiKey });
      expect(performance.now() - started).toBeLessThan(500);
      expect(response.status).toBe(202);
      expect((await json(response)).id).toBe(id);
    });
  });

  test("a failed query is a 422 with the actor's message, for the asker and for pollers", async () => {
    const query = freshQuery();
    control.failures.set(await hashOf(query), "canceling statement due to statement timeout");
    const response = await post(query);
    expect(response.status).toBe(422);
    const { error } = await json(response);
    const { queryId } = error;
    expect(queryId).toMatch(/^q[0-9a-f]{24}$/);
    expect(error).toMatchObject({
      code: "query_failed",
      message: "canceling statement due to statement timeout",
    });
    const polled = await h.request(`/v1/queries/${queryId}`, { key: tenant.apiKey });
    expect(polled.status).toBe(422);
  });

  test("another tenant's query id is a 404, as is an unknown or malformed id", async () => {
    const { meta } = await json(await post(freshQuery()));
    const foreign = await h.request(`/v1/queries/${meta.queryId}`, { key: other.apiKey });
    expect(foreign.status).toBe(404);
    expect((await json(foreign)).error.code).toBe("query_not_found");
    const unknown = await h.request(`/v1/queries/q${"0".repeat(24)}`, { key: tenant.apiKey });
    expect(unknown.status).toBe(404);
    const malformed = await h.request("/v1/queries/..%2F..%2Fetc", { key: tenant.apiKey });
    expect(malformed.status).toBe(404);
  });

  test("100 identical concurrent requests: one warehouse execution, one query id, 100 answers", async () => {
    const query = freshQuery();
    const responses = await Promise.all(Array.from({ length: 100 }, () => post(query, { wait: "10s" })));
    const bodies = await Promise.all(responses.map((response) => json(response)));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(new Set(bodies.map((body) => body.meta.queryId)).size).toBe(1);
    expect(control.executionsOf(tenant.id, await hashOf(query))).toBe(1);
  }, 30_000);
});

describe("bad input", () => {
  test("an invalid query is a 400 naming each field", async () => {
    const response = await post({ measures: ["clicks", "drop table"], limit: 10 ** 9 });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("invalid_query");
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual(["measures[1]", "limit"]);
  });

  test("an unknown cache mode names the field", async () => {
    const { error } = await json(await post({ ...freshQuery(), cache: "sometimes" }));
    expect(error.fields).toEqual([
      { field: "cache", message: "must be one of default, no-cache, stale-while-revalidate" },
    ]);
  });

  test("malformed JSON is 400, an oversized body 413, a bad wait 400", async () => {
    const malformed = await post("{measures:");
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error).toMatchObject({
      code: "invalid_json",
      fields: [{ field: "body" }],
    });
    const huge = await post({ measures: ["clicks"], filters: [], pad: "x".repeat(70_000) });
    expect(huge.status).toBe(413);
    for (const wait of ["soon", "-1s", "26s", "1h"]) {
      const response = await post(freshQuery(), { wait });
      expect(response.status).toBe(400);
      expect((await json(response)).error.fields[0].field).toBe("wait");
    }
  });

  test("authentication comes first: a bad body with a bad key is a 401", async () => {
    expect((await post("{measures:", { key: "nope" })).status).toBe(401);
  });
});

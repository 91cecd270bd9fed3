// Ingestion and the query path together, through HTTP: a question answered from a rollup equals the same
// question over raw events, and ingesting new events makes the next identical question a cache miss that
// sees them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ingestActor } from "../../../actors/ingest.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import type { IngestEvent } from "../../../src/domain/events/index.ts";
import { keys } from "../../../src/domain/keys.ts";
import { compileQuery, decodeRows, parseQuery, type Query } from "../../../src/domain/query/index.ts";
import { makeEvents } from "../../events/support.ts";
import { type EdgeHarness, json, startHarness, waitFor } from "../support/harness.ts";
import { standInQueryActor } from "../support/stand-in-query-actor.ts";

let h: EdgeHarness;
let tenant: { id: string; apiKey: string };

beforeAll(async () => {
  h = await startHarness({ actors: [tenantSyncActor, ingestActor, standInQueryActor().actor] });
  tenant = await h.createTenant({ rateLimit: 10_000 });
});
afterAll(() => h.stop());

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Three whole UTC days before today: a day rollup answers exactly. */
const question = {
  measures: ["impressions", "clicks", "conversions", "spend", "revenue", "ctr"],
  dimensions: ["channel", "country"],
  timeDimension: { granularity: "day", dateRange: [isoDay(today - 3 * DAY), isoDay(today - DAY)] },
  limit: 1000,
};

async function ingest(events: IngestEvent[]): Promise<void> {
  const version = Number((await h.redis.get(keys.dataVersion(tenant.id))) ?? 0);
  const response = await h.request("/v1/events", {
    method: "POST",
    key: tenant.apiKey,
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(202);
  await waitFor("the data version to move", async () =>
    Number((await h.redis.get(keys.dataVersion(tenant.id))) ?? 0) > version ? true : undefined,
  );
}

async function ask() {
  const response = await h.request("/v1/queries?wait=5s", {
    method: "POST",
    key: tenant.apiKey,
    body: JSON.stringify(question),
  });
  expect(response.status).toBe(200);
  return json(response);
}

/** The same question compiled for raw events and run on the warehouse directly. */
async function fromRaw() {
  const parsed = parseQuery(question, { now: Date.now() });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const compiled = compileQuery(parsed.query as Query, {
    tenantId: tenant.id,
    now: Date.now(),
    useRollups: false,
  });
  expect(compiled.source).toBe("raw");
  return decodeRows(
    compiled.columns,
    await h.host.warehouse.sql.unsafe(compiled.text, compiled.params as never[]),
  );
}

describe("ingest, then query", () => {
  test("answered from the campaign day rollup, equal to raw; new events make the next identical ask a miss that sees them", async () => {
    const first = makeEvents(900, { from: today - 3 * DAY, to: today, seed: 31, idPrefix: "first" });
    await ingest(first);

    const miss = await ask();
    expect(miss.meta).toMatchObject({ cache: "miss", source: "rollup_day_campaign" });
    expect(miss.data.length).toBeGreaterThan(0);
    expect(miss.data).toEqual(await fromRaw());
    expect((await ask()).meta.cache).toBe("hit");

    const versionBefore = miss.meta.dataVersion;
    const more = makeEvents(300, { from: today - 2 * DAY, to: today - DAY, seed: 32, idPrefix: "more" });
    await ingest(more);

    const after = await ask();
    expect(after.meta.cache).toBe("miss");
    expect(after.meta.dataVersion).toBeGreaterThan(versionBefore);
    expect(after.data).not.toEqual(miss.data);
    expect(after.data).toEqual(await fromRaw());
    const total = (rows: { clicks: number }[]) => rows.reduce((sum, row) => sum + row.clicks, 0);
    const newClicks = more.filter((event) => event.kind === "click").length;
    expect(total(after.data)).toBe(total(miss.data) + newClicks);
  });
});

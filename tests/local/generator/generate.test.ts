// The generator against the real edge (served over HTTP), broker, ingest actor, Postgres and Redis.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ingestActor } from "../../../actors/ingest.ts";
import { tenantSyncActor } from "../../../actors/tenant-sync.ts";
import { generate, resolveTenants } from "../../../src/local/generator/index.ts";
import { type EdgeHarness, startHarness, waitFor } from "../../edge/support/harness.ts";

let h: EdgeHarness;
let server: ReturnType<typeof Bun.serve>;
let edgeUrl: string;
const stateDir = mkdtempSync(join(tmpdir(), "fairway-generator-"));

beforeAll(async () => {
  h = await startHarness({ actors: [tenantSyncActor, ingestActor] });
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: h.app.fetch });
  edgeUrl = server.url.href.replace(/\/$/, "");
});
afterAll(async () => {
  await server?.stop(true);
  await h?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("generator", () => {
  test("creates the tenants it lacks through the admin API, remembers them, and reuses them next time", async () => {
    const known = await h.createTenant();
    const savedPath = join(stateDir, "tenants.json");
    const source = { edgeUrl, operatorToken: h.operatorToken, demo: known, savedPath };
    const first = await resolveTenants(source, 3);
    for (const tenant of first) h.track(tenant.id);
    expect(first.map((t) => t.id)[0]).toBe(known.id);
    expect(new Set(first.map((t) => t.id)).size).toBe(3);
    const saved = JSON.parse(readFileSync(savedPath, "utf8")).tenants;
    expect(saved.map((t: { id: string }) => t.id)).toEqual(first.slice(1).map((t) => t.id));
    expect(await resolveTenants(source, 3)).toEqual(first);
    await expect(resolveTenants({ edgeUrl, savedPath: join(stateDir, "none.json") }, 1)).rejects.toThrow(
      "operator token",
    );
  });

  test("sends at the asked rate through the API; every event accepted and stored", async () => {
    const tenants = [
      await h.createTenant({ rateLimit: 10_000 }),
      await h.createTenant({ rateLimit: 10_000 }),
    ];
    const progress: number[] = [];
    const stats = await generate({
      edgeUrl,
      tenants,
      rate: 400,
      durationMs: 2500,
      batchSize: 200,
      seed: 3,
      onProgress: (s) => progress.push(s.accepted),
    });
    expect(stats.sent).toBeGreaterThanOrEqual(900);
    expect(stats.sent).toBeLessThanOrEqual(1000);
    expect(stats.accepted).toBe(stats.sent);
    expect(stats.rejected + stats.failed).toBe(0);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    await waitFor(
      "the events in Postgres",
      async () => {
        const [row] = await h.host.warehouse.sql`
          select count(*)::int as n from ad_events where tenant_id in ${h.host.warehouse.sql(tenants.map((t) => t.id))}`;
        return (row as { n: number }).n === stats.accepted ? true : undefined;
      },
      10_000,
    );
  });
});

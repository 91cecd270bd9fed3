// `npm run dev` provides a demo tenant: created on the first start, reused on the next while its key works.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DevFile } from "../../src/local/services/dev-file.ts";
import { dropDemoTenants, readDevFile, startDev } from "./dev-support.ts";

const stateDir = mkdtempSync(join(tmpdir(), "fairway-dev-demo-"));
const tenants = new Set<string>();

afterAll(async () => {
  await dropDemoTenants(tenants);
  rmSync(stateDir, { recursive: true, force: true });
});

/** Starts the stack, reads dev.json, calls `use`, stops the stack. */
async function withDev(use: (info: DevFile) => Promise<void>): Promise<DevFile> {
  const dev = await startDev(stateDir);
  try {
    const info = readDevFile(stateDir);
    if (info.demo) tenants.add(info.demo.tenantId);
    await use(info);
    return info;
  } finally {
    await dev.stop();
  }
}

const meta = (info: DevFile) =>
  fetch(`${info.edge.url}/v1/meta`, { headers: { authorization: `Bearer ${info.demo?.apiKey}` } });

test("the demo tenant is recorded in dev.json, works, and is reused on the next start", async () => {
  const first = await withDev(async (info) => {
    expect(info.demo?.apiKey).toStartWith(`fw_${info.demo?.tenantId}_`);
    expect(info.operatorToken).toBeString();
    expect((await meta(info)).status).toBe(200);
  });
  const second = await withDev(async (info) => {
    expect(info.demo).toEqual(first.demo as DevFile["demo"]);
    expect((await meta(info)).status).toBe(200);
  });
  expect(second.demo?.tenantId).toBe(first.demo?.tenantId as string);
}, 90_000);

// The demo tenant `npm run dev` provides: created once through the admin API, its key kept in
// `<stateDir>/demo-tenant.json` (dev.json is removed when the stack stops), and reused on the next start as
// long as it still authenticates.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface DemoTenant {
  tenantId: string;
  apiKey: string;
}

export interface DemoTenantOptions {
  edgeUrl: string;
  operatorToken: string;
  stateDir: string;
  log: (line: string) => void;
  /** How long a remembered key may take to start working (the actors host may still be restoring Redis). */
  settleMs?: number;
}

export function demoTenantPath(stateDir: string): string {
  return join(stateDir, "demo-tenant.json");
}

/** Reuses the remembered demo tenant when its key still works, else creates a new one and remembers it. */
export async function ensureDemoTenant(options: DemoTenantOptions): Promise<DemoTenant> {
  const path = demoTenantPath(options.stateDir);
  const remembered = readRemembered(path);
  if (remembered && (await authenticates(options.edgeUrl, remembered.apiKey, options.settleMs ?? 3000))) {
    options.log(`demo tenant ${remembered.tenantId} (reused)`);
    return remembered;
  }
  const response = await fetch(`${options.edgeUrl}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${options.operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "demo" }),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 201) {
    throw new Error(`creating the demo tenant: ${response.status} ${await response.text()}`);
  }
  const created = (await response.json()) as { id: string; apiKey: string };
  const demo = { tenantId: created.id, apiKey: created.apiKey };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  options.log(`demo tenant ${demo.tenantId} (created)`);
  return demo;
}

function readRemembered(path: string): DemoTenant | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<DemoTenant>;
    return typeof value.tenantId === "string" && typeof value.apiKey === "string"
      ? { tenantId: value.tenantId, apiKey: value.apiKey }
      : undefined;
  } catch {
    return undefined;
  }
}

/** True once `GET /v1/meta` accepts the key; a 401 is retried until `settleMs` (Redis may be being restored). */
async function authenticates(edgeUrl: string, apiKey: string, settleMs: number): Promise<boolean> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const response = await fetch(`${edgeUrl}/v1/meta`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.status === 200) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

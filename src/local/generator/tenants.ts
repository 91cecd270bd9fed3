// Which tenants the generator sends for: the dev stack's demo tenant, then tenants it created on earlier runs
// (their keys kept in .fairway/generator-tenants.json, since a key is shown only once), then new ones created
// through the admin API with the operator token, until there are as many as asked for.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { GeneratorTenant } from "./sender.ts";

export interface TenantSource {
  edgeUrl: string;
  operatorToken?: string;
  /** Keys given on the command line, used first. */
  keys?: readonly string[];
  demo?: GeneratorTenant;
  /** Where created tenants are remembered. */
  savedPath: string;
  fetch?: typeof fetch;
}

/** A generator tenant's request budget: enough for thousands of events a second in batches. */
const GENERATOR_RATE_LIMIT = 100_000;

export async function resolveTenants(source: TenantSource, wanted: number): Promise<GeneratorTenant[]> {
  const doFetch = source.fetch ?? fetch;
  const chosen: GeneratorTenant[] = [];
  const add = async (tenant: GeneratorTenant) => {
    if (chosen.length < wanted && !chosen.some((t) => t.id === tenant.id) && (await keyWorks(tenant))) {
      chosen.push(tenant);
    }
  };
  const keyWorks = async (tenant: GeneratorTenant) => {
    const response = await doFetch(`${source.edgeUrl}/v1/meta`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    await response.body?.cancel();
    return response.status === 200;
  };

  for (const key of source.keys ?? []) await add({ id: tenantIdOfKey(key), apiKey: key });
  if (source.demo) await add(source.demo);
  const saved = readSaved(source.savedPath);
  for (const tenant of saved) await add(tenant);

  while (chosen.length < wanted) {
    if (!source.operatorToken) {
      throw new Error(
        `asked for ${wanted} tenants, have ${chosen.length}; creating more needs the operator token (--operator-token or dev.json)`,
      );
    }
    const response = await doFetch(`${source.edgeUrl}/admin/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${source.operatorToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `generator ${saved.length + 1}`, rateLimit: GENERATOR_RATE_LIMIT }),
    });
    if (response.status !== 201)
      throw new Error(`could not create a tenant: ${response.status} ${await response.text()}`);
    const created = (await response.json()) as GeneratorTenant;
    const tenant = { id: created.id, apiKey: created.apiKey };
    saved.push(tenant);
    writeSaved(source.savedPath, saved);
    chosen.push(tenant);
  }
  return chosen;
}

/** Keys look like `fw_<tenant>_<secret>`; the id is for display only (the edge checks the whole key). */
function tenantIdOfKey(key: string): string {
  return /^fw_([a-z0-9-]+)_/.exec(key)?.[1] ?? "(from --key)";
}

function readSaved(path: string): GeneratorTenant[] {
  if (!existsSync(path)) return [];
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { tenants?: GeneratorTenant[] };
    return (parsed.tenants ?? []).filter((t) => typeof t.id === "string" && typeof t.apiKey === "string");
  } catch {
    return [];
  }
}

function writeSaved(path: string, tenants: GeneratorTenant[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ tenants }, null, 2)}\n`, { mode: 0o600 });
}

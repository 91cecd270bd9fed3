// `.fairway/dev.json`: what `npm run dev` started, so scripts and CLIs can find the running stack.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface DevFile {
  edge: { url: string };
  redisRest: { url: string; token: string };
  redis: { url: string };
  postgres: { url: string; backend: "server" | "pglite"; poolMax: number };
  qstash?: { url: string; token: string; currentSigningKey: string; nextSigningKey: string };
  actors?: { url: string };
  /** The mock influencer provider the collector polls. */
  mockstagram?: { url: string };
  /** Token for operator-only endpoints (tenant admin, /metrics). */
  operatorToken?: string;
  /** A tenant to try the API with: `Authorization: Bearer <apiKey>` on the edge's `/v1` routes. */
  demo?: { tenantId: string; apiKey: string };
  /** The `npm run dev` process and its children, by name. */
  pids: Record<string, number>;
  startedAt: string;
}

/** Where the dev file lives: `<stateDir>/dev.json` (stateDir defaults to FAIRWAY_STATE_DIR, else `.fairway`). */
export function devFilePath(stateDir = process.env.FAIRWAY_STATE_DIR || ".fairway"): string {
  return join(stateDir, "dev.json");
}

export function writeDevFile(path: string, contents: DevFile): void {
  mkdirSync(dirname(path), { recursive: true });
  // Written whole then renamed, so a reader never sees half a file.
  writeFileSync(`${path}.tmp`, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** The running stack's details, or undefined when `npm run dev` is not running (no file). */
export function readDevFile(path = devFilePath()): DevFile | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as DevFile;
}

export function removeDevFile(path: string): void {
  rmSync(path, { force: true });
}

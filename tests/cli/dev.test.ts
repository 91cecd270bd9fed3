// `npm run dev` end to end: the real stack in a child process, then Ctrl-C (SIGINT) or a crashing child.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import type { RunningChild } from "../../src/local/services/supervisor.ts";
import { DATABASE_URL, dropDemoTenants, readDevFile, startDev } from "./dev-support.ts";

const stateDirs: string[] = [];
/** Each start in a fresh state dir creates a demo tenant: removed afterwards, or the next actors host restores it. */
const demoTenants = new Set<string>();

afterAll(async () => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  await dropDemoTenants(demoTenants);
});

/** Running, as opposed to gone or a zombie nobody reaped. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function startDevInNewDir(
  env: Record<string, string> = {},
): Promise<{ dev: RunningChild; lines: string[]; stateDir: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), "fairway-dev-"));
  stateDirs.push(stateDir);
  const lines: string[] = [];
  const dev = await startDev(stateDir, { env, log: (line) => lines.push(line) });
  return { dev, lines, stateDir };
}

async function waitUntilGone(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await Bun.sleep(50);
    alive = alive.filter(isAlive);
  }
  return alive;
}

describe("npm run dev", () => {
  test("starts the stack, says where it is, and Ctrl-C stops every child", async () => {
    // Hold a port and ask for it, to see the stack move aside and say so.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as { port: number }).port;
    const { dev, lines, stateDir } = await startDevInNewDir({ EDGE_PORT: String(taken) });
    try {
      const info = readDevFile(stateDir);
      if (info.demo) demoTenants.add(info.demo.tenantId);
      expect(lines.join("\n")).toContain(`edge: port ${taken} is taken; using`);
      expect(info.edge.url).not.toContain(`:${taken}`);
      expect(lines).toContain("fairway: health: ok: redis ok, postgres ok");

      const health = await fetch(`${info.edge.url}/health`);
      expect(health.status).toBe(200);
      expect(info.postgres.url).toBe(DATABASE_URL);
      expect(info.actors?.url).toStartWith("http://127.0.0.1:");
      // The bridge's token from dev.json works with the official client.
      const redis = new Redis({ url: info.redisRest.url, token: info.redisRest.token });
      expect(await redis.ping()).toBe("PONG");

      const children = Object.entries(info.pids).filter(([name]) => name !== "dev");
      expect(children.map(([name]) => name)).toEqual(
        expect.arrayContaining(["redis-rest", "actors", "edge"]),
      );
      expect(children.every(([, pid]) => isAlive(pid))).toBe(true);

      process.kill(dev.pid, "SIGINT");
      expect(await dev.exited).toEqual({ code: 0, signal: null });
      expect(await waitUntilGone(children.map(([, pid]) => pid))).toEqual([]);
      expect(existsSync(join(stateDir, "dev.json"))).toBe(false);
      expect(lines.at(-1)).toBe("fairway: stopped");
    } finally {
      blocker.close();
      await dev.stop();
    }
  }, 60_000);

  test("a child dying on its own stops the whole stack with an error", async () => {
    const { dev, lines, stateDir } = await startDevInNewDir();
    try {
      const info = readDevFile(stateDir);
      if (info.demo) demoTenants.add(info.demo.tenantId);
      const edgePid = info.pids.edge as number;
      const others = Object.entries(info.pids)
        .filter(([name]) => name !== "dev" && name !== "edge")
        .map(([, pid]) => pid);
      process.kill(edgePid, "SIGKILL");
      expect(await dev.exited).toEqual({ code: 1, signal: null });
      expect(lines.join("\n")).toContain("edge exited on its own (signal SIGKILL); stopping the stack");
      expect(await waitUntilGone(others)).toEqual([]);
    } finally {
      await dev.stop();
    }
  }, 60_000);
});

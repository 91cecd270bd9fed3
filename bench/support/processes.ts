// The stack's processes as the benches start and watch them.
import { readFileSync } from "node:fs";
import { REPO_ROOT } from "../../src/local/services/dev-stack.ts";
import { type RunningChild, startChild } from "../../src/local/services/supervisor.ts";

/** Starts `file` with Bun on an OS-chosen port, quietly, adds it to `children` (to stop later); its URL. */
export async function startBenchChild(
  children: RunningChild[],
  name: string,
  file: string,
  env: Record<string, string>,
): Promise<string> {
  const running = await startChild({
    name,
    command: [process.execPath, file],
    cwd: REPO_ROOT,
    env: { ...env, PORT: "0", HOST: "127.0.0.1" },
    log: () => {},
  });
  children.push(running);
  return running.url as string;
}

/** User + system CPU time of a process so far, in ms, from Linux /proc; NaN when it cannot be read. */
export function cpuMillis(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

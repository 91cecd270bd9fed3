// Starts child processes, waits until they say they are ready, forwards their logs, and stops them cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** Every Fairway process prints `<name> ready <url>` once it listens. */
export const READY_LINE = /\bready (https?:\/\/\S+)/;

export interface ChildSpec {
  /** Short name used to prefix its log lines and in errors. */
  name: string;
  /** Program and arguments, e.g. `[process.execPath, "src/edge/bun.ts"]`. */
  command: readonly string[];
  /** Added to (and overriding) the parent's environment; `undefined` values remove a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** A line that means "ready" (its first capture group is the URL), or a check polled until true. */
  ready?: RegExp | (() => Promise<boolean>);
  readyTimeoutMs?: number;
  /** Where log lines go; defaults to stdout with a `[name]` prefix. */
  log?: (line: string) => void;
  /**
   * Run in a process group of its own and signal the whole group: for launchers that start their own
   * children (wrangler starts workerd).
   */
  ownGroup?: boolean;
  /** How long SIGTERM gets before SIGKILL. */
  stopGraceMs?: number;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningChild {
  readonly name: string;
  readonly pid: number;
  /** The URL from its ready line (undefined when readiness came from a check). */
  readonly url: string | undefined;
  /** Settles when the process has exited, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  /** The last lines it printed, for error messages. */
  recentOutput(): string[];
  /** SIGTERM, then SIGKILL after the grace period; resolves once it has exited. */
  stop(): Promise<ChildExit>;
  /** SIGKILL at once, for when there is no time to wait. */
  kill(): void;
}

export class ChildStartError extends Error {
  override name = "ChildStartError";
}

const TAIL_LINES = 30;
// Colour codes would hide the ready line from the pattern.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * Spawns `spec.command` and resolves once it is ready; rejects (after killing it) when it exits or times out first.
 * `onSpawned` sees the process before it is ready, so a caller can stop it even mid-start.
 */
export async function startChild(
  spec: ChildSpec,
  onSpawned?: (child: RunningChild) => void,
): Promise<RunningChild> {
  const [program, ...args] = spec.command;
  if (program === undefined) throw new ChildStartError(`${spec.name}: empty command`);
  const log = spec.log ?? ((line: string) => process.stdout.write(`[${spec.name}] ${line}\n`));
  const env = mergeEnv(process.env, spec.env ?? {});
  const child = spawn(program, args, {
    cwd: spec.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: spec.ownGroup ?? false,
  });

  const tail: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  const onLine = (raw: string) => {
    const line = raw.replace(ANSI, "");
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    log(line);
    for (const listener of lineListeners) listener(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);

  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => {
      onLine(`${spec.name}: ${error.message}`);
      resolve({ code: null, signal: null });
    });
  });

  const running: RunningChild = {
    name: spec.name,
    pid: child.pid ?? -1,
    url: undefined,
    exited,
    recentOutput: () => [...tail],
    stop: () => stopProcess(child, exited, spec.ownGroup ?? false, spec.stopGraceMs ?? 3000),
    kill: () => signal(child, spec.ownGroup ?? false, "SIGKILL"),
  };
  onSpawned?.(running);

  const timeoutMs = spec.readyTimeoutMs ?? 20_000;
  const ready = spec.ready ?? READY_LINE;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const url = await Promise.race([
      ready instanceof RegExp ? waitForLine(ready, lineListeners) : pollUntil(ready, exited),
      exited.then((exit) => {
        throw new ChildStartError(`${spec.name} exited (${describeExit(exit)}) before it was ready`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ChildStartError(`${spec.name} was not ready within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return { ...running, url };
  } catch (error) {
    await running.stop();
    const output = tail.length > 0 ? `\n  last output:\n    ${tail.join("\n    ")}` : " (no output)";
    throw new ChildStartError(`${(error as Error).message}${output}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps track of children from the moment they are spawned, so one call stops them all. */
export class Supervisor {
  private readonly children: RunningChild[] = [];
  private stopping = false;

  /** Starts a child and watches it; `onExit` hears about exits after it was ready that were not asked for. */
  async start(
    spec: ChildSpec,
    onExit?: (child: RunningChild, exit: ChildExit) => void,
  ): Promise<RunningChild> {
    let spawned: RunningChild | undefined;
    const child = await startChild(spec, (early) => {
      spawned = early;
      this.children.push(early);
      if (this.stopping) void early.stop();
    });
    if (spawned) this.children[this.children.indexOf(spawned)] = child;
    if (this.stopping) {
      await child.stop();
      throw new ChildStartError(`${spec.name}: stopped while starting`);
    }
    child.exited.then((exit) => {
      if (!this.stopping) onExit?.(child, exit);
    });
    return child;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  list(): readonly RunningChild[] {
    return this.children;
  }

  /** Asks every child to stop at once (SIGTERM, SIGKILL after its grace period) and waits for all of them. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.children.map((child) => child.stop()));
  }

  /** SIGKILL to every child, without waiting. */
  killAll(): void {
    this.stopping = true;
    for (const child of this.children) child.kill();
  }
}

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

function waitForLine(pattern: RegExp, listeners: Set<(line: string) => void>): Promise<string | undefined> {
  return new Promise((resolve) => {
    const listener = (line: string) => {
      const match = pattern.exec(line);
      if (!match) return;
      listeners.delete(listener);
      resolve(match[1]);
    };
    listeners.add(listener);
  });
}

async function pollUntil(check: () => Promise<boolean>, exited: Promise<ChildExit>): Promise<undefined> {
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  while (!gone) {
    if (await check().catch(() => false)) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

async function stopProcess(
  child: ChildProcess,
  exited: Promise<ChildExit>,
  group: boolean,
  graceMs: number,
): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
  signal(child, group, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), graceMs);
  });
  const first = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (first === "late") signal(child, group, "SIGKILL");
  const exit = await exited;
  // A launcher's own children may outlive it; make sure the group is gone too.
  if (group) signal(child, group, "SIGKILL");
  return exit;
}

function signal(child: ChildProcess, group: boolean, name: NodeJS.Signals): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // Already gone.
  }
}

function mergeEnv(
  base: NodeJS.ProcessEnv,
  extra: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

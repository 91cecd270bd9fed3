import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  type ChildSpec,
  ChildStartError,
  Supervisor,
  startChild,
} from "../../../src/local/services/supervisor.ts";

const fixture = new URL("./fixtures/child.ts", import.meta.url).pathname;

function spec(mode: string, lines: string[] = [], extra: Partial<ChildSpec> = {}): ChildSpec {
  return {
    name: "child",
    command: [process.execPath, fixture],
    env: { CHILD_MODE: mode },
    log: (line) => lines.push(line),
    readyTimeoutMs: 10_000,
    ...extra,
  };
}

/** Running, as opposed to gone or a zombie waiting for a parent that no longer exists to reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

describe("startChild", () => {
  test("resolves with the URL from the ready line and forwards the log", async () => {
    const lines: string[] = [];
    const child = await startChild(spec("ready", lines));
    expect(child.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${child.url}/`)).text()).toBe("hi");
    expect(lines).toContain("warming up");
    const exit = await child.stop();
    expect(exit.signal ?? exit.code).toBeTruthy();
    expect(isAlive(child.pid)).toBe(false);
  });

  test("a child that exits before it is ready is an error carrying its last output", async () => {
    const error = await startChild(spec("crash")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildStartError);
    const message = (error as Error).message;
    expect(message).toContain("child exited (code 3) before it was ready");
    expect(message).toContain("boom: missing setting");
  });

  test("a child that never says ready times out and is killed", async () => {
    const started = performance.now();
    const error = await startChild(spec("silent", [], { readyTimeoutMs: 500 })).catch((e: unknown) => e);
    expect((error as Error).message).toContain("not ready within 500 ms");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("SIGKILL follows SIGTERM when the child ignores it", async () => {
    const lines: string[] = [];
    const child = await startChild(spec("stubborn", lines, { stopGraceMs: 300 }));
    const exit = await child.stop();
    expect(exit.signal).toBe("SIGKILL");
    expect(lines).toContain("ignoring SIGTERM");
  });

  test("a child in its own group takes its grandchildren with it", async () => {
    const lines: string[] = [];
    const child = await startChild(spec("parent", lines, { ownGroup: true }));
    let grandchild = 0;
    for (let i = 0; i < 50 && grandchild === 0; i++) {
      const line = lines.find((l) => l.startsWith("grandchild "));
      if (line) grandchild = Number(line.split(" ")[1]);
      else await Bun.sleep(20);
    }
    expect(isAlive(grandchild)).toBe(true);
    await child.stop();
    for (let i = 0; i < 50 && isAlive(grandchild); i++) await Bun.sleep(20);
    expect(isAlive(grandchild)).toBe(false);
  });
});

describe("Supervisor", () => {
  test("stopAll stops every child, and only unexpected exits are reported", async () => {
    const supervisor = new Supervisor();
    const unexpected: string[] = [];
    const onExit = (child: { name: string }) => unexpected.push(child.name);
    const a = await supervisor.start({ ...spec("ready"), name: "a" }, onExit);
    const b = await supervisor.start({ ...spec("ready"), name: "b" }, onExit);
    process.kill(a.pid, "SIGTERM");
    await a.exited;
    await Bun.sleep(10);
    expect(unexpected).toEqual(["a"]);
    await supervisor.stopAll();
    expect(isAlive(b.pid)).toBe(false);
    expect(unexpected).toEqual(["a"]);
  });

  test("stopAll also stops a child that is still starting", async () => {
    const supervisor = new Supervisor();
    const starting = supervisor.start({ ...spec("slow"), name: "slow" });
    const outcome = starting.then(
      () => "started",
      (error: Error) => error.message,
    );
    await Bun.sleep(200);
    const [pid] = supervisor.list().map((child) => child.pid);
    expect(pid).toBeNumber();
    await supervisor.stopAll();
    expect(await outcome).toContain("slow");
    expect(await outcome).not.toBe("started");
    expect(isAlive(pid as number)).toBe(false);
  });
});

// actors/main.ts as the dev stack runs it: a child process that prints one ready line and stops on SIGTERM.
import { expect, test } from "bun:test";
import { readActorsConfig } from "../../actors/config.ts";
import { DATABASE_URL, readJson } from "./support.ts";

async function readyUrl(child: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited before ready: ${await new Response(child.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const match = /^actors ready (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(text);
  if (!match?.[1]) throw new Error(`unexpected first line: ${JSON.stringify(text)}`);
  return match[1];
}

test("prints one ready line, answers /health, and exits 0 on SIGTERM", async () => {
  const child = Bun.spawn([process.execPath, "actors/main.ts"], {
    env: {
      ...process.env,
      PORT: "0",
      DATABASE_URL,
      DATABASE_POOL_MAX: "1",
      UPSTASH_REDIS_REST_TOKEN: "unused",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const url = await readyUrl(child);
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect((await readJson(health)).postgres.ok).toBe(true);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  } finally {
    child.kill("SIGKILL");
  }
});

test("configuration: defaults, the public URL, and refused values", () => {
  const defaults = readActorsConfig({});
  expect(defaults).toMatchObject({ port: 8082, host: "127.0.0.1", dbPoolMax: 10, publicUrl: undefined });
  expect(defaults.qstash.currentSigningKey).toBe("sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r");
  const set = readActorsConfig({
    PORT: "0",
    DATABASE_POOL_MAX: "1",
    ACTORS_PUBLIC_URL: "https://a.example/",
  });
  expect(set).toMatchObject({ port: 0, dbPoolMax: 1, publicUrl: "https://a.example" });
  expect(() => readActorsConfig({ DATABASE_POOL_MAX: "0" })).toThrow("DATABASE_POOL_MAX");
  expect(() => readActorsConfig({ PORT: "eighty" })).toThrow("PORT");
});

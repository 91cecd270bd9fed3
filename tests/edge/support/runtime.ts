// One contract for every runtime the edge runs on: start the real server once per file, ask it real questions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { HealthBody } from "../../../src/edge/routes/health.ts";
import { freePort } from "../../../src/local/services/ports.ts";
import type { RunningChild } from "../../../src/local/services/supervisor.ts";
import { type EdgeTestStack, startEdgeStack } from "./stack.ts";

export interface RuntimeStart {
  port: number;
  edgeEnv: Record<string, string>;
}

export function describeRuntime(
  runtime: string,
  start: (options: RuntimeStart) => Promise<RunningChild>,
  extraChecks?: (server: () => RunningChild) => void,
): void {
  describe(`the edge on ${runtime}`, () => {
    let stack: EdgeTestStack;
    let server: RunningChild;
    let baseUrl: string;

    beforeAll(async () => {
      stack = await startEdgeStack();
      const port = await freePort();
      server = await start({ port, edgeEnv: stack.edgeEnv });
      baseUrl = `http://127.0.0.1:${port}`;
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
      await stack?.stop();
    });

    test("GET /health answers 200 with Redis (through the bridge) and Postgres (through the actors host)", async () => {
      const response = await fetch(`${baseUrl}/health`);
      const body = (await response.json()) as HealthBody;
      expect({ status: response.status, body }).toEqual({
        status: 200,
        body: {
          status: "ok",
          redis: { ok: true, latencyMs: expect.any(Number) },
          postgres: { ok: true, latencyMs: expect.any(Number) },
        },
      });
      expect(response.headers.get("x-request-id")).toBeString();
    });

    test("unknown routes get the JSON error shape", async () => {
      const response = await fetch(`${baseUrl}/nope`, { headers: { "x-request-id": `${runtime}-1` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: "not_found", message: "No route for GET /nope", requestId: `${runtime}-1` },
      });
    });

    extraChecks?.(() => server);
  });
}

import type { Sql } from "postgres";

export interface PostgresHealth {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** `SELECT 1` with a deadline, so a stuck warehouse makes /health answer 503 quickly instead of hanging. */
export async function checkPostgres(sql: Sql, timeoutMs = 2000): Promise<PostgresHealth> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sql`select 1`, deadline]);
    return { ok: true, latencyMs: elapsed(started) };
  } catch (error) {
    return {
      ok: false,
      latencyMs: elapsed(started),
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

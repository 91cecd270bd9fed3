// Reads one influencer's counters from the provider: a timeout per request, retries with jittered backoff for
// answers that may change (5xx, 429, timeouts, refused connections), and a deadline for the whole tick.
import { COUNTERS, type Counters } from "../../src/domain/influencers/ids.ts";

export type Reading =
  | { ok: true; counters: Counters; fetchedAt: number; attempts: number }
  | { ok: false; error: string; attempts: number; retryable: boolean };

export interface ReadOptions {
  timeoutMs: number;
  attempts: number;
  /** Epoch ms after which no attempt starts or continues: the tick's share of the interval. */
  deadline: number;
  /** First backoff; doubled per attempt, ±50 % jitter. Default 100 ms. */
  backoffMs?: number;
  fetch?: typeof fetch;
}

/** @example await readCounters("http://127.0.0.1:8083", "1000001", { timeoutMs: 2000, attempts: 3, deadline: Date.now() + 1000 }) */
export async function readCounters(
  baseUrl: string,
  influencerId: string,
  options: ReadOptions,
): Promise<Reading> {
  const doFetch = options.fetch ?? fetch;
  const url = `${baseUrl}/api/v1/influencers/${encodeURIComponent(influencerId)}`;
  let error = "no attempt fit before the deadline";
  let attempts = 0;
  while (attempts < options.attempts) {
    const remaining = options.deadline - Date.now();
    if (remaining <= 0) break;
    attempts++;
    const outcome = await attempt(doFetch, url, Math.min(options.timeoutMs, remaining));
    if (outcome.ok) return { ...outcome, attempts };
    error = outcome.error;
    if (!outcome.retryable) return { ok: false, error, attempts, retryable: false };
    const backoff = (options.backoffMs ?? 100) * 2 ** (attempts - 1) * (0.5 + Math.random());
    if (attempts < options.attempts && Date.now() + backoff < options.deadline) await Bun.sleep(backoff);
  }
  return { ok: false, error, attempts, retryable: true };
}

type Attempt =
  | { ok: true; counters: Counters; fetchedAt: number }
  | { ok: false; error: string; retryable: boolean };

async function attempt(doFetch: typeof fetch, url: string, timeoutMs: number): Promise<Attempt> {
  let response: Response;
  try {
    response = await doFetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      ok: false,
      retryable: true,
      error: timedOut
        ? `no answer within ${Math.round(timeoutMs)} ms`
        : `provider unreachable: ${(error as Error).message}`,
    };
  }
  if (!response.ok) {
    await response.body?.cancel();
    // 408 / 429 / 5xx may pass; anything else (404 unknown influencer, 400) will not.
    const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
    return { ok: false, retryable, error: `provider answered ${response.status}` };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { ok: false, retryable: true, error: "provider answered with invalid JSON" };
  }
  if (typeof body !== "object" || body === null)
    return { ok: false, retryable: true, error: "provider answered with no object" };
  const record = body as Record<string, unknown>;
  const counters = {} as Counters;
  for (const name of COUNTERS) {
    const value = record[name];
    counters[name] = typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null;
  }
  return { ok: true, counters, fetchedAt: Date.now() };
}

// `FAIRWAY_DEMO_EVENTS=1 npm run dev`: a gentle stream of generated events for the demo tenant, so the live
// top-ads API and the dashboard have something to show. Rate: FAIRWAY_DEMO_EVENTS_RATE (events/s, default 20).
import { type GeneratorTenant, generate } from "./sender.ts";

const DEFAULT_RATE = 20;

/** Starts the stream in this process; returns a function that stops it. Problems are logged, not thrown. */
export function startDemoEvents(
  edgeUrl: string,
  tenant: GeneratorTenant,
  log: (line: string) => void,
  env: Record<string, string | undefined> = process.env,
): () => void {
  const rate = Number(env.FAIRWAY_DEMO_EVENTS_RATE ?? DEFAULT_RATE);
  if (!(rate > 0)) {
    log(
      `demo events: FAIRWAY_DEMO_EVENTS_RATE must be a positive number, got "${env.FAIRWAY_DEMO_EVENTS_RATE}"`,
    );
    return () => {};
  }
  const abort = new AbortController();
  // The stack stops on these signals; stop first, so events are not sent to an edge that is going away.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => abort.abort());
  let reportedErrors = 0;
  log(`demo events: ${rate} events/s for ${tenant.id} (FAIRWAY_DEMO_EVENTS_RATE)`);
  generate({
    edgeUrl,
    tenants: [tenant],
    rate,
    batchSize: Math.max(10, Math.min(500, Math.round(rate))),
    flushMs: 1000,
    concurrency: 2,
    signal: abort.signal,
    onProgress(stats) {
      if (abort.signal.aborted) return; // the last batches die with the stack; not worth a line
      const errors = stats.rejected + stats.failed;
      if (errors > reportedErrors) {
        reportedErrors = errors;
        log(`demo events: ${errors} not accepted so far; last error: ${stats.lastError}`);
      }
    },
  }).catch((error) => log(`demo events stopped: ${error instanceof Error ? error.message : String(error)}`));
  return () => abort.abort();
}

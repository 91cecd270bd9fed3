// `npm run mockstagram`: the mock provider alone.
// Env: PORT (8083; 0 = any free port), HOST (127.0.0.1), MOCKSTAGRAM_FAILURE_RATE (0..1, default 0),
// MOCKSTAGRAM_LATENCY_MS (default 0), MOCKSTAGRAM_SEED (default 0).
import { startMockstagram } from "./server.ts";

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    console.error(`mockstagram: ${name}="${raw}" is not a number`);
    process.exit(2);
  }
  return value;
}

try {
  const mock = startMockstagram({
    port: numberFromEnv("PORT", 8083),
    hostname: process.env.HOST || "127.0.0.1",
    failureRate: numberFromEnv("MOCKSTAGRAM_FAILURE_RATE", 0),
    latencyMs: numberFromEnv("MOCKSTAGRAM_LATENCY_MS", 0),
    seed: numberFromEnv("MOCKSTAGRAM_SEED", 0),
  });
  console.log(`mockstagram ready ${mock.url}`);
  const stop = async () => {
    await mock.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  console.error(`mockstagram: cannot start: ${(error as Error).message}`);
  process.exit(1);
}

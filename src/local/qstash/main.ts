import { startQStash } from "./broker.ts";
import { DEV_CREDENTIALS } from "./config.ts";

/**
 * `npm run qstash`: the QStash-compatible broker alone.
 *
 * Environment: REDIS_URL (redis://127.0.0.1:6379), PORT (8081; 0 = any free port), HOST (127.0.0.1),
 * QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY (the official local server's dev
 * credentials), QSTASH_TIME_SCALE (1; 0.01 makes every delay and backoff 100× shorter),
 * QSTASH_KEY_PREFIX (qstash), QSTASH_LEASE_MS (10000).
 */
function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    console.error(`qstash: ${name}="${raw}" is not a number`);
    process.exit(2);
  }
  return value;
}

const broker = await startQStash({
  redisUrl: process.env.REDIS_URL || "redis://127.0.0.1:6379",
  port: numberFromEnv("PORT", 8081),
  hostname: process.env.HOST || "127.0.0.1",
  token: process.env.QSTASH_TOKEN || DEV_CREDENTIALS.token,
  currentSigningKey: process.env.QSTASH_CURRENT_SIGNING_KEY || DEV_CREDENTIALS.currentSigningKey,
  nextSigningKey: process.env.QSTASH_NEXT_SIGNING_KEY || DEV_CREDENTIALS.nextSigningKey,
  timeScale: numberFromEnv("QSTASH_TIME_SCALE", 1),
  keyPrefix: process.env.QSTASH_KEY_PREFIX || "qstash",
  leaseMs: numberFromEnv("QSTASH_LEASE_MS", 10_000),
});
console.log(`qstash ready ${broker.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    broker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

// Starts the Upstash-compatible Redis REST bridge alone: `npm run redis-rest`.
// Env: REDIS_URL (redis://127.0.0.1:6379), PORT (8079; 0 = any free port), TOKEN, HOST (127.0.0.1).
import { DEV_REDIS_REST_TOKEN, startRedisRest } from "./server.ts";

const port = Number(process.env.PORT ?? 8079);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`redis-rest: PORT must be an integer between 0 and 65535, got "${process.env.PORT}"`);
  process.exit(1);
}

try {
  const bridge = await startRedisRest({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    port,
    token: process.env.TOKEN || DEV_REDIS_REST_TOKEN,
    hostname: process.env.HOST || "127.0.0.1",
  });
  console.log(`redis-rest ready ${bridge.url}`);
  const stop = async () => {
    await bridge.stop();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (error) {
  console.error(`redis-rest: cannot start: ${(error as Error).message}`);
  process.exit(1);
}

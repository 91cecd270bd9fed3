// A child process that takes one permit and then hangs on to it until it is killed: the SIGKILL test's holder.
// Env: REDIS_REST_URL, REDIS_REST_TOKEN, SEM_KEY, SEM_TTL_MS. Prints "acquired <expiry>" or "refused".
import { Redis } from "@upstash/redis";
import { newLeaseToken, Semaphore } from "../../actors/semaphore/semaphore.ts";

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const redis = new Redis({ url: need("REDIS_REST_URL"), token: need("REDIS_REST_TOKEN") });
const semaphore = new Semaphore(redis, need("SEM_KEY"), { limit: 1, ttlMs: Number(need("SEM_TTL_MS")) });
const result = await semaphore.acquire(newLeaseToken());
console.log(result.status === "acquired" ? `acquired ${result.expiresAt}` : "refused");
setInterval(() => {}, 60_000); // hold the permit (never heartbeat, never release) until SIGKILL

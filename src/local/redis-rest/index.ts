export { DEV_REDIS_REST_TOKEN, type RedisRest, type RedisRestOptions, startRedisRest } from "./server.ts";

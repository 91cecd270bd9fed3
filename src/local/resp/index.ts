export { RespConnection, type RespConnectOptions } from "./connection.ts";
export { RespPool, type RespPoolOptions } from "./pool.ts";
export { type RespArg, RespError, type RespReply } from "./reply.ts";
export type { TransportKind } from "./transport.ts";
export { parseRedisUrl, type RedisTarget } from "./url.ts";

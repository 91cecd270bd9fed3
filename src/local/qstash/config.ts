/** The official local QStash server's published development credentials, which this broker uses by default. */
export const DEV_CREDENTIALS = {
  token: "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=",
  currentSigningKey: "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r",
  nextSigningKey: "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs",
} as const;

export interface QStashOptions {
  redisUrl: string;
  /** 0 picks a free port. Default 8081. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  token?: string;
  currentSigningKey?: string;
  nextSigningKey?: string;
  /**
   * Multiplies every wait the broker imposes: `Upstash-Delay`, the distance to `Upstash-Not-Before`,
   * retry backoff (default, `Upstash-Retry-Delay` and `Retry-After`) and schedule delays. 0.01 turns a
   * 12 s backoff into 120 ms. Not scaled: cron fire times (use a seconds field), per-attempt timeouts,
   * the 10-minute dedup window. Default 1.
   */
  timeScale?: number;
  /** Every Redis key starts with `{keyPrefix}:` (one Redis Cluster slot). Default "qstash". */
  keyPrefix?: string;
  /** How long a claimed message stays leased to this broker without renewal. Default 10 s. */
  leaseMs?: number;
  /** Most deliveries at once. Default 256. */
  maxInFlight?: number;
  /** Safety-net look for due work. Default 1 s. */
  sweepMs?: number;
  /** Per-attempt timeout when a message sets no `Upstash-Timeout`. Default 5 min. */
  defaultTimeoutMs?: number;
  /** Largest accepted message body. Default 1 MiB. */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

export type ResolvedOptions = Required<QStashOptions>;

export function resolveOptions(options: QStashOptions): ResolvedOptions {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new Error(`timeScale must be > 0, got ${timeScale}`);
  return {
    redisUrl: options.redisUrl,
    port: options.port ?? 8081,
    hostname: options.hostname ?? "127.0.0.1",
    token: options.token ?? DEV_CREDENTIALS.token,
    currentSigningKey: options.currentSigningKey ?? DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: options.nextSigningKey ?? DEV_CREDENTIALS.nextSigningKey,
    timeScale,
    keyPrefix: options.keyPrefix ?? "qstash",
    leaseMs: options.leaseMs ?? 10_000,
    maxInFlight: options.maxInFlight ?? 256,
    sweepMs: options.sweepMs ?? 1000,
    defaultTimeoutMs: options.defaultTimeoutMs ?? 300_000,
    maxBodyBytes: options.maxBodyBytes ?? 1 << 20,
    log: options.log ?? ((line) => console.error(line)),
  };
}

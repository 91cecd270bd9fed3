// Live leaderboards: per-minute sorted sets of ads by metric, their windows, parameters and scripts. Pure
// TypeScript on Web standards: the edge reads them, the ingest actor and reconciliation write them.
export * from "./metrics.ts";
export * from "./params.ts";
export * from "./redis.ts";

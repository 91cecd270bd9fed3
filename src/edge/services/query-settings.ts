import type { EdgeServices, QuerySettings } from "../context.ts";

export const DEFAULT_QUERY_SETTINGS: QuerySettings = {
  cacheTtlSeconds: 300,
  staleGraceSeconds: 3600,
  defaultWaitMs: 2000,
  maxWaitMs: 25_000,
  maxBodyBytes: 64 * 1024,
};

export function querySettings(services: EdgeServices): QuerySettings {
  const given = Object.fromEntries(
    Object.entries(services.query ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<QuerySettings>;
  return { ...DEFAULT_QUERY_SETTINGS, ...given };
}

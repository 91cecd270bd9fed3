// The semantic query: catalogue, validation, canonical hash, SQL compiler. Pure TypeScript on Web standards,
// shared by the edge (validation, cache keys) and the query actor (compilation).
export * from "./canonical.ts";
export * from "./catalogue.ts";
export * from "./compile.ts";
export { type InstantRange, RELATIVE_RANGE_HELP, resolveDateRange, TIME_BOUNDS } from "./date-range.ts";
export type { QueryError } from "./errors.ts";
export * from "./parse.ts";
export * from "./result.ts";
export * from "./schema.ts";
export {
  chooseSource,
  dimensionsUsed,
  MINUTE_ROLLUP_DAYS,
  SOURCE_DIMENSIONS,
  SOURCE_TABLES,
  type Source,
} from "./source.ts";
export { stableJson } from "./stable-json.ts";

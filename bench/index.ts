// `npm run bench -- <name> [args…]` (i.e. `bun bench/index.ts <name>`): runs one benchmark.
// Add a benchmark by adding a line to the table; each module exports `run(args)`.

interface Benchmark {
  run(args: string[]): Promise<void>;
}

const benchmarks: Record<string, () => Promise<Benchmark>> = {
  "redis-rest": () => import("./redis-rest.ts"),
  broker: () => import("./broker.ts"),
  ingest: () => import("./ingest.ts"),
  "query-actor": () => import("./query-actor.ts"),
  query: () => import("./query.ts"),
  influencers: () => import("./influencers.ts"),
  import: () => import("./import.ts"),
};

const [name, ...args] = process.argv.slice(2);
const load = name === undefined ? undefined : benchmarks[name];
if (load === undefined) {
  console.error(`usage: npm run bench -- <name>   (one of: ${Object.keys(benchmarks).join(", ")})`);
  process.exit(2);
}
await (await load()).run(args);
process.exit(0);

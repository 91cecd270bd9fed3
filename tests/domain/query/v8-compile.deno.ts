// Run by runtimes.test.ts under Deno (V8, as on Workers): hashes and compiles the queries given as a JSON
// argument and prints the results as JSON, for comparison with the same work done under Bun.
import { compileQuery, type Query, queryHash } from "../../../src/domain/query/index.ts";

declare const Deno: { args: string[] };
const { queries, now } = JSON.parse(Deno.args[0] ?? "{}") as { queries: Query[]; now: number };
const results = [];
for (const query of queries) {
  const { hash } = await queryHash(query, now);
  results.push({ hash, ...compileQuery(query, { tenantId: "t", now }) });
}
console.log(JSON.stringify(results));

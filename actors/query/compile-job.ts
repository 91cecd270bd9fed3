// The only way SQL is made for a query job: the canonical query in the message is validated again, its hash
// checked against the message's (so a result is never cached under another question's key), and compiled
// with the tenant id of the signed message, which the compiler injects as `$1`. Nothing else reaches SQL.
import { type CompiledQuery, compileQuery, parseQuery, queryHash } from "../../src/domain/query/index.ts";
import type { QueryJobMessage } from "../../src/domain/query-jobs.ts";

export type CompiledJob = { ok: true; compiled: CompiledQuery } | { ok: false; error: string };

export async function compileJob(message: QueryJobMessage): Promise<CompiledJob> {
  const parsed = parseQuery(message.query, { now: message.askedAt });
  if (!parsed.ok) {
    const detail = parsed.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    return { ok: false, error: `The query is not valid: ${detail}` };
  }
  try {
    const { hash } = await queryHash(parsed.query, message.askedAt);
    if (hash !== message.hash) return { ok: false, error: "The query does not match its hash" };
    return {
      ok: true,
      // Relative ranges resolve at askedAt (the hash says so); the minute rollup's window at this host's clock,
      // the clock ingestion measured it with.
      compiled: compileQuery(parsed.query, {
        tenantId: message.tenantId,
        now: message.askedAt,
        clock: Date.now(),
      }),
    };
  } catch (error) {
    // Only a range that leaves the queryable years at askedAt gets here (parseQuery checked the rest).
    return { ok: false, error: `The query is not valid: ${error instanceof Error ? error.message : error}` };
  }
}

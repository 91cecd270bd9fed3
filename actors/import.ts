// The import actor: consecutive chunks of a CSV import (or the upload's closing `seal`).
//
// 1. Every row is checked as `POST /v1/events` checks an event (src/domain/imports/rows.ts); rows the edge
//    could not read (ragged, bad quoting, invalid UTF-8) arrive already rejected.
// 2. The good rows of all the message's chunks go through the ingest actor's own code (idempotent insert,
//    rollup fold, leaderboard outbox, data version) as one batch whose id comes from the chunks, so a
//    redelivered message stores nothing new; one statement for thousands of rows costs the warehouse far
//    less per row than one per chunk.
// 3. One transaction counts each chunk once (`import_chunks` primary key), adds the new chunks' tallies to
//    `imports`, keeps the first rejected rows' details, and ends the import when the last chunk is done and the
//    total is known.
// 4. The committed row is copied to the Redis status record (newer copies win) with the errors it stored.
// A crash anywhere is a redelivery: steps 2 and 3 find their work done and step 4 is written again.

import type { IngestEvent } from "../src/domain/events/index.ts";
import {
  type ImportChunkMessage,
  type ImportChunkPart,
  type ImportChunksMessage,
  type ImportSealMessage,
  importMessage,
  type RowReject,
} from "../src/domain/imports/messages.ts";
import { projectImport } from "../src/domain/imports/redis.ts";
import { checkRows } from "../src/domain/imports/rows.ts";
import { recordImportFinished } from "../src/domain/monitoring/recorder.ts";
import { sha256Hex } from "../src/domain/query/stable-json.ts";
import type { ActorContext } from "./define.ts";
import { defineActor } from "./define.ts";
import { type Bookkeeping, type ChunkTally, recordChunks, recordSeal } from "./import/store.ts";
import { ingestActor } from "./ingest.ts";
import { fail, type Outcome, ok, retry } from "./outcome.ts";

export interface ImportChunkReport {
  importId: string;
  /** The first and last chunk the message carried. */
  chunks: [number, number];
  accepted: number;
  rejected: number;
  /** Events that were new to the warehouse (a re-imported file inserts none). */
  inserted: number;
  counted: boolean;
  status: string;
}

export const importActor = defineActor({
  name: "import",
  schema: importMessage,
  async handler(message, ctx) {
    if (message.kind === "seal") return sealImport(message, ctx);
    return importChunks(message.kind === "chunks" ? message : asChunks(message), ctx);
  },
});

/** A one-chunk message as the run of chunks it is. */
function asChunks({ chunk, rows, rejects, ...rest }: ImportChunkMessage): ImportChunksMessage {
  return { ...rest, kind: "chunks", chunks: [{ chunk, rows, rejects }] };
}

async function importChunks(message: ImportChunksMessage, ctx: ActorContext): Promise<Outcome> {
  const { tenantId, importId } = message;
  const now = Date.now();
  const events: IngestEvent[] = [];
  const tallies: ChunkTally[] = [];
  for (const part of message.chunks) {
    const checked = checkRows(importId, message.columns, part.rows, now);
    for (const event of checked.events) events.push(event);
    tallies.push(tallyOf(part, checked.events.length, checked.rejects));
  }

  let inserted = 0;
  if (events.length > 0) {
    // The chunks' own batch id: the same chunks always name the same batch (and its leaderboard outbox rows).
    const batchId = `b_${(await sha256Hex(`import\n${tenantId}\n${importId}\n${chunkSpan(message.chunks)}`)).slice(0, 32)}`;
    const ingested = await ingestActor.handler({ tenantId, batchId, events }, ctx);
    if (ingested.kind !== "ok") return ingested;
    inserted = (ingested.body as { inserted?: number } | undefined)?.inserted ?? 0;
  }

  const booked = await book(() => recordChunks(ctx.sql, tenantId, importId, message.settings, tallies, now));
  if ("kind" in booked) return booked;
  const published = await publishStatus(ctx, tenantId, importId, booked);
  if (published) return published;

  const report: ImportChunkReport = {
    importId,
    chunks: chunkRange(message.chunks),
    accepted: events.length,
    rejected: tallies.reduce((sum, tally) => sum + tally.rejected.length, 0),
    inserted,
    counted: booked.counted,
    status: booked.copy.status,
  };
  return ok(report);
}

/** The first and last chunk numbers of a message's run. */
function chunkRange(chunks: readonly ImportChunkPart[]): [number, number] {
  return [(chunks[0] as ImportChunkPart).chunk, (chunks.at(-1) as ImportChunkPart).chunk];
}

/** `3` for one chunk (the id a one-chunk message always had), `3-12` for a run. */
function chunkSpan(chunks: readonly ImportChunkPart[]): string {
  const [first, last] = chunkRange(chunks);
  return first === last ? String(first) : `${first}-${last}`;
}

function tallyOf(part: ImportChunkPart, accepted: number, rejects: RowReject[]): ChunkTally {
  const lines = [...part.rows.map((row) => row[0]), ...part.rejects.map((reject) => reject.line)];
  return {
    chunk: part.chunk,
    accepted,
    rejected: [...part.rejects, ...rejects],
    firstLine: Math.min(...lines),
    lastLine: Math.max(...lines),
  };
}

async function sealImport(message: ImportSealMessage, ctx: ActorContext): Promise<Outcome> {
  const { tenantId, importId } = message;
  const booked = await book(() =>
    recordSeal(ctx.sql, tenantId, importId, message.settings, {
      chunksTotal: message.chunksTotal,
      bytes: message.bytes,
      error: message.error,
    }),
  );
  if ("kind" in booked) return booked;
  return (await publishStatus(ctx, tenantId, importId, booked)) ?? ok({ importId, sealed: booked.counted });
}

/** Runs the bookkeeping transaction; a missing tenant row (not synced yet) or a lost connection is retried. */
async function book(run: () => Promise<Bookkeeping>): Promise<Bookkeeping | Outcome> {
  try {
    return await run();
  } catch (error) {
    const candidate = (error as { cause?: unknown })?.cause ?? error;
    const { code, message } = (candidate ?? {}) as { code?: string; message?: string };
    const detail = message ?? String(error);
    if (code === "23503") return retry(`the tenant is not in the warehouse yet: ${detail}`, 2);
    if (code?.startsWith("22"))
      return fail(`warehouse refused the import bookkeeping (SQLSTATE ${code}): ${detail}`);
    return retry(`warehouse: ${detail}`);
  }
}

/** Copies the committed row to Redis; logs and counts the end of the import. Undefined when all went well. */
async function publishStatus(
  ctx: ActorContext,
  tenantId: string,
  importId: string,
  booked: Bookkeeping,
): Promise<Outcome | undefined> {
  try {
    await projectImport(ctx.redis, tenantId, importId, booked.copy, booked.storedErrors);
    if (booked.finished) {
      const { copy } = booked;
      const fields = {
        tenantId,
        importId,
        status: copy.status,
        rowsAccepted: copy.rowsAccepted,
        rowsRejected: copy.rowsRejected,
        chunks: copy.chunksDone,
        error: copy.error,
      };
      if (copy.status === "failed") ctx.log.warn("import failed", fields);
      else ctx.log.info("import finished", fields);
      await recordImportFinished(ctx.redis, tenantId, copy.status);
    }
    return undefined;
  } catch (error) {
    // Postgres has it; the redelivery writes the copy again.
    return retry(`redis: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// Reads one CSV upload as a stream and queues it as chunks: bytes → (gunzip) → CSV records → 500-row chunks →
// import-actor messages of up to ten consecutive chunks each, a few in flight at a time. Reading waits while
// those are in flight, so memory is bounded by a few messages whatever the file's size. When the body ends, a
// `seal` message carries the totals.
import { type ChunkContent, CsvChunker, ImportInputError, splitChunk } from "../../domain/imports/chunker.ts";
import type { ColumnBinding, ColumnMapping } from "../../domain/imports/columns.ts";
import { CsvFatalError, CsvParser, type CsvRecord } from "../../domain/imports/csv-parser.ts";
import {
  chunksDedupId,
  type ImportSettings,
  MAX_CHUNKS_PER_MESSAGE,
  sealDedupId,
} from "../../domain/imports/messages.ts";
import { beginUpload, type ImportRedis, updateUpload } from "../../domain/imports/redis.ts";
import type { Publisher } from "../../publisher/index.ts";
import { ImportPace } from "./pace.ts";
import { utf8LengthUpTo } from "./utf8-length.ts";

/**
 * Chunk messages of one tenant's imports processed at once (the tenant's import lane at the broker). Adjacent
 * chunks of a time-ordered file share their day's rollup rows, so each waits for the one before it to commit
 * before its last folds: six in flight keep two cores busy through those waits where four left a quarter idle.
 */
export const IMPORT_PARALLELISM = 6;
/** Chunk messages being published at once by one upload. */
const PUBLISH_CONCURRENCY = 4;
/** A chunk message is split when larger (the broker refuses messages over 1 MiB). */
const MAX_MESSAGE_BYTES = 900_000;
const utf8 = new TextEncoder();
/** The parser is given at most this much of the body at a time, which bounds the records alive at once. */
const PARSE_SLICE_BYTES = 64 * 1024;
/** Resolves after the tasks already waiting (other requests' I/O) had their turn; a resolved promise would not. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
/** Upload progress is written to Redis at most this often. */
const PROGRESS_EVERY_MS = 1000;
/** A chunk's delivery attempts after the first: enough to outlast an actors-host restart or a database blip. */
const CHUNK_RETRIES = 5;

/** The tenant's import lane at the broker, apart from its ingest lane so a big import never delays live events. */
export function importLane(tenantId: string): string {
  return `${tenantId}.import`;
}

export interface UploadInput {
  tenantId: string;
  importId: string;
  body: ReadableStream<Uint8Array>;
  gzip: boolean;
  mapping: ColumnMapping;
  settings: Omit<ImportSettings, "createdAt">;
}

export interface UploadOutcome {
  /** The import had already ended: nothing was read or queued. */
  alreadyFinished: boolean;
  chunksTotal: number;
  rowsTotal: number;
  bytes: number;
  ignoredColumns: string[];
}

/** The body could not be read as a CSV file; `queued` says whether earlier chunks were already queued. */
export class UploadRefused extends Error {
  override name = "UploadRefused";
  constructor(
    readonly code: string,
    readonly field: string,
    message: string,
    readonly queued: boolean,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** The client went away or the broker did not take a chunk: a retry with the same import id resumes. */
export class UploadInterrupted extends Error {
  override name = "UploadInterrupted";
  constructor(
    message: string,
    readonly brokerDown: boolean,
  ) {
    super(message);
  }
}

export interface UploadServices {
  redis: ImportRedis;
  publisher: Publisher;
}

/**
 * @example const outcome = await runUpload(services, { tenantId, importId, body: request.body, gzip: false, … });
 */
export async function runUpload(services: UploadServices, input: UploadInput): Promise<UploadOutcome> {
  const upload = new Upload(services, input);
  return upload.run();
}

class Upload {
  private readonly parser = new CsvParser();
  private readonly chunker: CsvChunker;
  private readonly inFlight = new Set<Promise<void>>();
  private publishError: unknown;
  private nextChunk = 0;
  /** Serialised chunks waiting to fill a message: numbered, not yet published. */
  private pending: { first: number; parts: string[]; bytes: number } = { first: 0, parts: [], bytes: 0 };
  private bytes = 0;
  private settings: ImportSettings | undefined;
  private lastProgress = 0;
  private transportError: unknown;
  private envelopeText: string | undefined;
  private roomBytes: number | undefined;
  private readonly pace: ImportPace;

  constructor(
    private readonly services: UploadServices,
    private readonly input: UploadInput,
  ) {
    this.chunker = new CsvChunker({ mapping: input.mapping });
    this.pace = new ImportPace(services.redis, input.tenantId, input.importId);
  }

  async run(): Promise<UploadOutcome> {
    const reader = this.decodedStream().getReader();
    try {
      for (;;) {
        let read: Awaited<ReturnType<typeof reader.read>>;
        try {
          read = await reader.read();
        } catch (error) {
          throw this.readFailure(error);
        }
        if (read.done) break;
        const bytes = read.value;
        this.bytes += bytes.byteLength;
        // Bun hands over what piled up while the upload waited (over a MiB at a time): parsed whole, its
        // records would all be alive at once, across the waits for publishes.
        for (let from = 0; from < bytes.byteLength; from += PARSE_SLICE_BYTES) {
          const slice = bytes.subarray(from, from + PARSE_SLICE_BYTES);
          if ((await this.feed(() => this.parser.push(slice))) === "finished") {
            await reader.cancel().catch(() => {});
            return this.outcome(true);
          }
          // A slice is a millisecond or two of parsing; other tenants' requests on this isolate go in between.
          await nextTask();
        }
        await this.reportProgress(false);
      }
      if ((await this.feed(() => this.parser.end())) === "finished") return this.outcome(true);
      const last = this.finishChunker();
      if (last && (await this.queue(last)) === "finished") return this.outcome(true);
      if (this.nextChunk === 0) {
        throw new UploadRefused("no_rows", "body", "the file has a header row but no data rows", false);
      }
      await this.drain();
      await this.seal(null);
      return this.outcome(false);
    } catch (error) {
      await Promise.allSettled(this.inFlight);
      if (error instanceof UploadRefused && error.queued) {
        // Rows before the broken part are queued (and will land); the import ends `failed` with the reason.
        await this.queueRest().catch(() => {});
        await this.seal(error.message).catch(() => {});
      } else if (this.settings) {
        const reason = error instanceof Error ? error.message : String(error);
        await updateUpload(this.services.redis, this.input.tenantId, this.input.importId, {
          upload: "failed",
          uploadError: `upload interrupted: ${reason}`,
          bytesReceived: this.bytes,
          rowsRead: this.chunker.rows,
          chunksPublished: this.handedOver(),
        }).catch(() => {});
      }
      await reader.cancel().catch(() => {});
      throw error;
    }
  }

  /** After a fatal error: the rows read before it, so the import holds exactly the lines before the error. */
  private async queueRest(): Promise<void> {
    const rest = this.chunker.finish();
    if (rest) await this.queue(rest);
    await this.drain();
  }

  /** The body, counted, and gunzipped when asked; transport failures are told apart from bad gzip data. */
  private decodedStream(): ReadableStream<Uint8Array> {
    const source = this.input.body.getReader();
    const counted = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await source.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          this.transportError = error;
          controller.error(error);
        }
      },
      cancel: (reason) => source.cancel(reason),
    });
    if (!this.input.gzip) return counted;
    return counted.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }

  private readFailure(error: unknown): Error {
    if (this.transportError !== undefined || !this.input.gzip) {
      const detail = error instanceof Error ? error.message : String(error);
      return new UploadInterrupted(`the request body could not be read: ${detail}`, false);
    }
    return new UploadRefused(
      "invalid_gzip",
      "body",
      `the body is not valid gzip data (after ${this.bytes} bytes)`,
      this.nextChunk > 0,
    );
  }

  /** Parses, chunks and queues; a fatal CSV error is raised after the records before it are taken. */
  private async feed(step: () => CsvRecord[]): Promise<"queued" | "finished"> {
    let records: CsvRecord[];
    let fatal: CsvFatalError | undefined;
    try {
      records = step();
    } catch (error) {
      if (!(error instanceof CsvFatalError)) throw error;
      fatal = error;
      records = error.records;
    }
    for (const record of records) {
      const full = this.chunkerAdd(record);
      if (full && (await this.queue(full)) === "finished") return "finished";
    }
    if (fatal) throw new UploadRefused("invalid_csv", "body", fatal.message, this.nextChunk > 0, fatal.line);
    return "queued";
  }

  private chunkerAdd(record: CsvRecord): ChunkContent | undefined {
    try {
      return this.chunker.add(record);
    } catch (error) {
      if (error instanceof ImportInputError) {
        throw new UploadRefused("invalid_header", error.field, error.message, false, error.line);
      }
      throw error;
    }
  }

  private finishChunker(): ChunkContent | undefined {
    try {
      return this.chunker.finish();
    } catch (error) {
      if (error instanceof ImportInputError)
        throw new UploadRefused("empty_file", error.field, error.message, false);
      throw error;
    }
  }

  /** Adds a chunk (split when too big for a message) to the next message, publishing each message filled. */
  private async queue(chunk: ChunkContent): Promise<"queued" | "finished"> {
    if (!this.settings) {
      const begun = await beginUpload(this.services.redis, this.input.tenantId, this.input.importId, {
        fileName: this.input.settings.fileName,
        maxRejectRatio: this.input.settings.maxRejectRatio,
        ignoredColumns: this.chunker.ignoredColumns,
      });
      if (begun.final) return "finished";
      this.settings = { ...this.input.settings, createdAt: begun.createdAt };
    }
    for (const part of this.parts(chunk)) {
      // A part's bytes and the comma before it.
      const bytes = part.bytes + 1;
      const full = this.pending.bytes + bytes > this.room();
      if (this.pending.parts.length > 0 && full) await this.flush();
      if (this.pending.parts.length === 0) this.pending.first = this.nextChunk;
      this.pending.parts.push(part.text);
      this.pending.bytes += bytes;
      this.nextChunk++;
      if (this.pending.parts.length >= MAX_CHUNKS_PER_MESSAGE) await this.flush();
    }
    return "queued";
  }

  /** Publishes the chunks waiting as one message, waiting while too many are in flight. */
  private async flush(): Promise<void> {
    const { first, parts } = this.pending;
    if (parts.length === 0) return;
    this.pending = { first: this.nextChunk, parts: [], bytes: 0 };
    await this.pace.ahead(first);
    while (this.inFlight.size >= PUBLISH_CONCURRENCY) await Promise.race(this.inFlight);
    if (this.publishError !== undefined) throw this.brokerFailure();
    const body = `${this.envelope()},"chunks":[${parts.join(",")}]}`;
    const publishing = this.services.publisher
      .publishRaw("import", body, {
        deduplicationId: chunksDedupId(
          this.input.tenantId,
          this.input.importId,
          first,
          first + parts.length - 1,
        ),
        flowControl: { key: importLane(this.input.tenantId), parallelism: IMPORT_PARALLELISM },
        retries: CHUNK_RETRIES,
      })
      .then(
        () => {},
        (error) => {
          this.publishError ??= error;
        },
      )
      .finally(() => this.inFlight.delete(publishing));
    this.inFlight.add(publishing);
  }

  /**
   * The chunk as one or more serialised `{chunk, rows, rejects}` parts, each small enough to make a message on
   * its own.
   */
  private *parts(chunk: ChunkContent): Generator<{ text: string; bytes: number }> {
    // Read when the part is made: the caller numbers each part it takes before asking for the next.
    const text = JSON.stringify({ chunk: this.nextChunk, rows: chunk.rows, rejects: chunk.rejects });
    const bytes = utf8LengthUpTo(text, this.room());
    if (bytes !== undefined) {
      yield { text, bytes };
      return;
    }
    if (chunk.rows.length + chunk.rejects.length <= 1) {
      throw new UploadRefused("row_too_large", "body", "a row is too large to queue", this.nextChunk > 0);
    }
    const [first, second] = splitChunk(chunk);
    yield* this.parts(first);
    yield* this.parts(second);
  }

  /** Bytes a message has for its chunks: the limit less the envelope and the punctuation around the list. */
  private room(): number {
    this.roomBytes ??= MAX_MESSAGE_BYTES - utf8.encode(this.envelope()).byteLength - 16;
    return this.roomBytes;
  }

  /** A `chunks` message up to its list of chunks. `tenantId` comes early: monitoring reads it from there. */
  private envelope(): string {
    this.envelopeText ??= JSON.stringify({
      kind: "chunks",
      tenantId: this.input.tenantId,
      importId: this.input.importId,
      settings: this.settings,
      columns: (this.chunker.columns as ColumnBinding[]).map(({ field, header }) => ({ field, header })),
    }).slice(0, -1);
    return this.envelopeText;
  }

  /** Chunks handed to the publisher (the ones waiting to fill a message are not). */
  private handedOver(): number {
    return this.nextChunk - this.pending.parts.length;
  }

  private async drain(): Promise<void> {
    await this.flush();
    await Promise.allSettled(this.inFlight);
    if (this.publishError !== undefined) throw this.brokerFailure();
  }

  private brokerFailure(): UploadInterrupted {
    const detail = this.publishError instanceof Error ? this.publishError.message : String(this.publishError);
    return new UploadInterrupted(`the queue did not take a chunk: ${detail}`, true);
  }

  private async seal(error: string | null): Promise<void> {
    if (!this.settings) return;
    const body = JSON.stringify({
      kind: "seal",
      tenantId: this.input.tenantId,
      importId: this.input.importId,
      settings: this.settings,
      chunksTotal: this.nextChunk,
      rowsTotal: this.chunker.rows,
      bytes: this.bytes,
      error,
    });
    try {
      await this.services.publisher.publishRaw("import", body, {
        deduplicationId: sealDedupId(this.input.tenantId, this.input.importId),
        flowControl: { key: importLane(this.input.tenantId), parallelism: IMPORT_PARALLELISM },
        retries: CHUNK_RETRIES,
      });
    } catch (publishError) {
      this.publishError = publishError;
      throw this.brokerFailure();
    }
    await updateUpload(this.services.redis, this.input.tenantId, this.input.importId, {
      upload: error === null ? "received" : "failed",
      ...(error === null ? {} : { uploadError: error }),
      bytesReceived: this.bytes,
      rowsRead: this.chunker.rows,
      chunksPublished: this.nextChunk,
      chunksTotal: this.nextChunk,
      rowsTotal: this.chunker.rows,
      receivedAt: Date.now(),
    });
  }

  private async reportProgress(force: boolean): Promise<void> {
    const now = Date.now();
    if (!this.settings || (!force && now - this.lastProgress < PROGRESS_EVERY_MS)) return;
    this.lastProgress = now;
    await updateUpload(
      this.services.redis,
      this.input.tenantId,
      this.input.importId,
      { bytesReceived: this.bytes, rowsRead: this.chunker.rows, chunksPublished: this.handedOver() },
      now,
    );
  }

  private outcome(alreadyFinished: boolean): UploadOutcome {
    return {
      alreadyFinished,
      chunksTotal: this.nextChunk,
      rowsTotal: this.chunker.rows,
      bytes: this.bytes,
      ignoredColumns: this.chunker.ignoredColumns,
    };
  }
}

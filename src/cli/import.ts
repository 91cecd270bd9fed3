// `npm run import -- <file.csv> [--tenant-key <key>] [--edge <url>] [--import-id <id>] [--columns <map>]
//   [--max-reject-ratio <0..1>] [--gzip] [--json]`
// Uploads a CSV file to POST /v1/imports as a stream (gzip-compressed on the way with --gzip; a .gz file is sent
// as is), with a live progress bar: bytes sent, then chunks done. Prints the final report.
// Defaults: the edge URL and the demo tenant's key from the running `npm run dev` stack (.fairway/dev.json).
// The upload carries an Idempotency-Key (--import-id, else a fresh one), so a retried upload adds nothing;
// a dropped connection is retried twice.
// Exit code: 0 completed (with or without rejected rows), 1 failed, 2 bad usage or the upload was refused.
import { statSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { newImportId } from "../domain/imports/messages.ts";
import { readDevFile } from "../local/services/dev-file.ts";

const USAGE =
  "usage: npm run import -- <file.csv> [--tenant-key <key>] [--edge <url>] [--import-id <id>] " +
  "[--columns <header:field,…>] [--max-reject-ratio <0..1>] [--gzip] [--json]";
const FINAL = new Set(["completed", "completed_with_errors", "failed"]);
const POLL_MS = 300;
const UPLOAD_ATTEMPTS = 3;

interface Options {
  file: string;
  edge: string;
  key: string;
  importId: string;
  columns?: string;
  maxRejectRatio?: string;
  gzip: boolean;
  json: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the report is printed from the API's JSON as is
type Json = Record<string, any>;

function die(message: string): never {
  console.error(`import: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function readOptions(): Options {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        "tenant-key": { type: "string" },
        edge: { type: "string" },
        "import-id": { type: "string" },
        columns: { type: "string" },
        "max-reject-ratio": { type: "string" },
        gzip: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
      strict: true,
    });
  } catch (error) {
    die((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const [file, ...extra] = parsed.positionals;
  if (!file) die("give the CSV file to import");
  if (extra.length > 0) die(`one file at a time (also got ${extra.join(", ")})`);
  const dev = readDevFile();
  const edge = (values.edge as string | undefined) ?? process.env.FAIRWAY_EDGE_URL ?? dev?.edge.url;
  const key =
    (values["tenant-key"] as string | undefined) ?? process.env.FAIRWAY_API_KEY ?? dev?.demo?.apiKey;
  if (!edge) die("no --edge given and no running `npm run dev` stack found (.fairway/dev.json)");
  if (!key) die("no --tenant-key given and the dev stack has no demo tenant");
  return {
    file,
    edge: edge.replace(/\/+$/, ""),
    key,
    importId: (values["import-id"] as string | undefined) ?? newImportId(),
    columns: values.columns as string | undefined,
    maxRejectRatio: values["max-reject-ratio"] as string | undefined,
    gzip: values.gzip === true,
    json: values.json === true,
  };
}

/** A progress line on stderr, redrawn in place when stderr is a terminal. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private lastDrawn = 0;

  draw(text: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}`);
    else if (force) process.stderr.write(`${text}\n`);
  }

  done(): void {
    if (this.tty) process.stderr.write("\n");
  }
}

function bar(done: number, total: number, width = 28): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Streams the file (compressing it when asked) while counting the bytes handed to the connection. */
function fileBody(options: Options, size: number, progress: Progress): ReadableStream<Uint8Array> {
  let sent = 0;
  const counted = Bun.file(options.file)
    .stream()
    .pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          sent += chunk.byteLength;
          progress.draw(`uploading ${bar(sent, size)} ${mib(sent)} of ${mib(size)}`);
          controller.enqueue(chunk);
        },
      }),
    );
  return options.gzip
    ? counted.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>)
    : counted;
}

async function upload(options: Options, size: number, progress: Progress): Promise<Response> {
  const url = new URL(`${options.edge}/v1/imports`);
  url.searchParams.set("fileName", basename(options.file));
  if (options.columns) url.searchParams.set("columns", options.columns);
  if (options.maxRejectRatio) url.searchParams.set("maxRejectRatio", options.maxRejectRatio);
  const gzipFile = options.file.endsWith(".gz");
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.key}`,
    "Idempotency-Key": options.importId,
    "Content-Type": gzipFile ? "application/gzip" : "text/csv",
  };
  if (options.gzip && !gzipFile) headers["Content-Encoding"] = "gzip";
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: fileBody(options, size, progress),
        // Streams the request body (fetch otherwise buffers it).
        duplex: "half",
      });
      if (response.status !== 503 || attempt === UPLOAD_ATTEMPTS) return response;
    } catch (error) {
      if (attempt === UPLOAD_ATTEMPTS) throw error;
    }
    progress.draw(
      `upload interrupted; retrying (${attempt + 1} of ${UPLOAD_ATTEMPTS}) with the same import id`,
      true,
    );
    await Bun.sleep(1000 * attempt);
  }
}

async function follow(options: Options, progress: Progress): Promise<Json> {
  for (;;) {
    const response = await fetch(`${options.edge}/v1/imports/${options.importId}`, {
      headers: { Authorization: `Bearer ${options.key}` },
    });
    const body = (await response.json()) as Json;
    if (response.status !== 200)
      throw new Error(`GET /v1/imports/${options.importId}: ${JSON.stringify(body)}`);
    const total = body.chunks?.total ?? 0;
    const rate = body.rowsPerSecond ? `${Math.round(body.rowsPerSecond).toLocaleString("en-US")} rows/s` : "";
    const eta = body.etaSeconds !== null && body.etaSeconds !== undefined ? `ETA ${body.etaSeconds} s` : "";
    progress.draw(
      `importing ${bar(body.chunks?.done ?? 0, total)} chunks ${body.chunks?.done ?? 0}/${total} ${rate} ${eta}`,
    );
    if (FINAL.has(body.status)) return body;
    await Bun.sleep(POLL_MS);
  }
}

function report(body: Json): string {
  const lines = [
    `import ${body.id}: ${body.status}`,
    `  rows: ${body.rows.accepted.toLocaleString("en-US")} accepted, ${body.rows.rejected.toLocaleString("en-US")} rejected` +
      ` (${(body.rows.total ?? body.rows.done).toLocaleString("en-US")} in the file)`,
    `  chunks: ${body.chunks.done}/${body.chunks.total}, ${body.rowsPerSecond ?? "?"} rows/s`,
  ];
  if (body.error) lines.push(`  error: ${body.error}`);
  if (body.ignoredColumns?.length) lines.push(`  ignored columns: ${body.ignoredColumns.join(", ")}`);
  for (const error of body.errors ?? []) {
    lines.push(`  line ${error.line}${error.column ? ` (${error.column})` : ""}: ${error.reason}`);
  }
  if (body.rows.rejected > (body.errors?.length ?? 0)) {
    lines.push(`  all errors: GET ${body.links.errors}?format=csv`);
  }
  return lines.join("\n");
}

const options = readOptions();
let size: number;
try {
  size = statSync(options.file).size;
} catch (error) {
  die(`cannot read ${options.file}: ${(error as Error).message}`);
}
const progress = new Progress();
let response: Response;
try {
  response = await upload(options, size, progress);
} catch (error) {
  progress.done();
  console.error(`import: upload failed: ${(error as Error).message} (import id ${options.importId})`);
  process.exit(2);
}
const accepted = (await response.json()) as Json;
progress.draw(
  response.status === 200
    ? `import ${options.importId} had already finished; nothing was added`
    : `uploaded ${mib(size)}: ${accepted.rows ?? "?"} rows in ${accepted.chunks ?? "?"} chunks`,
  true,
);
if (response.status !== 202 && response.status !== 200) {
  progress.done();
  console.error(
    `import: refused (${response.status}): ${accepted.error?.message ?? JSON.stringify(accepted)}`,
  );
  process.exit(2);
}
const final = await follow(options, progress);
progress.done();
console.log(options.json ? JSON.stringify(final, null, 2) : report(final));
process.exit(final.status === "failed" ? 1 : 0);

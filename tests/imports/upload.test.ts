// The upload loop on its own (no stack): what it publishes does not depend on how the body arrives, and a body
// handed over in one large piece is parsed a bounded slice at a time.
import { afterEach, describe, expect, test } from "bun:test";
import { CsvParser } from "../../src/domain/imports/csv-parser.ts";
import type { ImportRedis } from "../../src/domain/imports/redis.ts";
import { runUpload } from "../../src/edge/imports/upload.ts";
import { utf8LengthUpTo } from "../../src/edge/imports/utf8-length.ts";
import type { Publisher } from "../../src/publisher/index.ts";

const HEADER = "id,ts,kind,channel,campaign,ad,country,city,cost,revenue";

/** Begins every upload afresh (two keys: the begin script) and accepts every progress write. */
const redis = {
  evalsha: async (_sha: string, keys: string[]) => (keys.length === 2 ? [0, 1_700_000_000_000] : 1),
  eval: async (_script: string, keys: string[]) => (keys.length === 2 ? [0, 1_700_000_000_000] : 1),
} as unknown as ImportRedis;

function recordingPublisher(bodies: string[]): Publisher {
  return {
    actorsUrl: "http://actors.test",
    publish: async () => ({ messageId: "m", deduplicated: false }),
    publishRaw: async (_actor, body) => {
      bodies.push(body);
      return { messageId: `m${bodies.length}`, deduplicated: false };
    },
  };
}

/** Quoted fields with commas and line breaks, non-ASCII text, ragged and badly quoted rows. */
function csv(rows: number): string {
  const lines = [HEADER];
  for (let i = 1; i <= rows; i++) {
    if (i % 97 === 0) lines.push(`bad${i},"2026-11-20T10:00:00Z"x,click,google,c,ad,US,Austin,1,0`);
    else if (i % 89 === 0) lines.push(`short${i},2026-11-20T10:00:00Z`);
    else {
      const campaign = i % 7 === 0 ? `"spring, ""big""\nsale ${i}"` : `camp-${i % 20}`;
      const city = i % 11 === 0 ? "Zürich ✓ 🚀" : "Austin";
      lines.push(
        `e${i},2026-11-20T10:00:00Z,click,google,${campaign},ad-${i % 200},US,${city},0.${i % 10},0`,
      );
    }
  }
  return `${lines.join("\r\n")}\r\n`;
}

function bodyOf(bytes: Uint8Array, pieceBytes: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + pieceBytes));
      at += pieceBytes;
    },
  });
}

async function upload(bytes: Uint8Array, pieceBytes: number) {
  const bodies: string[] = [];
  const outcome = await runUpload(
    { redis, publisher: recordingPublisher(bodies) },
    {
      tenantId: "t_upload",
      importId: "imp_upload",
      body: bodyOf(bytes, pieceBytes),
      gzip: false,
      mapping: {},
      settings: { fileName: "upload.csv", maxRejectRatio: 0.5, columnMapping: null },
    },
  );
  return { outcome, bodies };
}

describe("upload", () => {
  const pushed: number[] = [];
  const push = CsvParser.prototype.push;
  afterEach(() => {
    CsvParser.prototype.push = push;
    pushed.length = 0;
  });

  test("the messages are the same whether the body comes in one piece or in small pieces", async () => {
    const bytes = new TextEncoder().encode(csv(6_000));
    expect(bytes.length).toBeGreaterThan(4 * 65_536);
    const whole = await upload(bytes, bytes.length);
    const pieces = await upload(bytes, 1_000);
    expect(whole.outcome.rowsTotal).toBe(6_000);
    expect(whole.outcome.chunksTotal).toBe(12);
    expect(pieces.outcome).toEqual(whole.outcome);
    expect(pieces.bodies).toEqual(whole.bodies);

    const messages = whole.bodies.map((body) => JSON.parse(body));
    const chunks = messages.filter((m) => m.kind === "chunks").flatMap((m) => m.chunks);
    expect(chunks.map((chunk) => chunk.chunk)).toEqual([...Array(12).keys()]);
    const rows = chunks.flatMap((chunk) => chunk.rows);
    const rejects = chunks.flatMap((chunk) => chunk.rejects);
    expect(rows.length + rejects.length).toBe(6_000);
    expect(rows.find((row: unknown[]) => row[1] === "e77").slice(1)).toEqual([
      "e77",
      "2026-11-20T10:00:00Z",
      "click",
      "google",
      `spring, "big"\nsale 77`,
      "ad-77",
      "US",
      "Zürich ✓ 🚀",
      "0.7",
      "0",
    ]);
    expect(messages.at(-1)).toMatchObject({ kind: "seal", chunksTotal: 12, rowsTotal: 6_000 });
    for (const body of whole.bodies)
      expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(900_000);
  });

  test("a body handed over in one large piece is parsed a slice at a time", async () => {
    CsvParser.prototype.push = function (this: CsvParser, bytes: Uint8Array) {
      pushed.push(bytes.length);
      return push.call(this, bytes);
    };
    const bytes = new TextEncoder().encode(csv(6_000));
    const { outcome } = await upload(bytes, bytes.length);
    expect(outcome.rowsTotal).toBe(6_000);
    expect(pushed.reduce((sum, n) => sum + n, 0)).toBe(bytes.length);
    expect(Math.max(...pushed)).toBeLessThanOrEqual(65_536);
  });
});

describe("utf8LengthUpTo", () => {
  test("counts UTF-8 bytes, and gives up past the limit", () => {
    expect(utf8LengthUpTo("", 10)).toBe(0);
    expect(utf8LengthUpTo("plain", 10)).toBe(5);
    expect(utf8LengthUpTo("Zürich ✓ 🚀", 100)).toBe(new TextEncoder().encode("Zürich ✓ 🚀").length);
    expect(utf8LengthUpTo("abcde", 5)).toBe(5);
    expect(utf8LengthUpTo("abcdef", 5)).toBeUndefined();
    // Fewer characters than the limit, more bytes.
    expect(utf8LengthUpTo("ééé", 5)).toBeUndefined();
    expect(utf8LengthUpTo("éé", 4)).toBe(4);
    expect(utf8LengthUpTo("a🚀", 4)).toBeUndefined();
    expect(utf8LengthUpTo("a🚀", 5)).toBe(5);
    // A smaller limit after a larger one.
    expect(utf8LengthUpTo("x".repeat(1_000), 2_000)).toBe(1_000);
    expect(utf8LengthUpTo("x".repeat(1_000), 999)).toBeUndefined();
  });
});

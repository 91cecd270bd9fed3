// The bridge writes plain (not base64) answers as bytes; they must be exactly the UTF-8 of the JSON text the
// string renderer gives, for any reply Redis can send.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { entriesBody, renderEntries, renderReply, resultBody } from "../../../src/local/redis-rest/render.ts";
import { RespError, type RespReply } from "../../../src/local/resp/index.ts";

const decode = (body: string | Uint8Array) =>
  typeof body === "string" ? body : new TextDecoder("utf-8", { fatal: true }).decode(body);

/** Bulk strings as the parser hands them over: views into a larger chunk, any bytes. */
const bulk = fc
  .oneof(
    fc.string({ unit: "binary" }).map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    fc.constantFrom("OK", '"quoted" \\back\\slash', "\u0000\u001f\u007f tab\t", "\xff\xfe").map(Buffer.from),
    fc.constant(Buffer.from([0xed, 0xa0, 0x80, 0x41, 0xc3])), // an encoded surrogate, a cut sequence
  )
  .map((bytes) =>
    Buffer.concat([Buffer.from("$x\r\n"), bytes, Buffer.from("\r\n")]).subarray(4, 4 + bytes.length),
  );

const reply: fc.Arbitrary<RespReply> = fc.letrec<{ reply: RespReply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    bulk,
    fc.constant(null),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.string().map((message) => new RespError(message)),
    fc.array(tie("reply"), { maxLength: 5 }),
  ),
})).reply;

describe("plain answers as bytes", () => {
  test("a pipeline answer is the UTF-8 of the JSON text", () => {
    fc.assert(
      fc.property(fc.array(reply, { maxLength: 8 }), (replies) => {
        expect(decode(entriesBody(replies, false))).toBe(renderEntries(replies, false));
      }),
      { numRuns: 2000 },
    );
  });

  test("a single answer is the UTF-8 of the JSON text", () => {
    fc.assert(
      fc.property(reply, (one) => {
        expect(decode(resultBody(one, false))).toBe(`{"result":${renderReply(one, false)}}`);
      }),
      { numRuns: 2000 },
    );
  });

  test("escapes, malformed UTF-8 and long values", () => {
    const replies: RespReply[] = [
      Buffer.from('a"b\\c\n\r\t\b\f\u0001\u001f\u007f'),
      Buffer.from([0x61, 0xff, 0x62]),
      Buffer.from("🚀 émoji — 日本語"),
      Buffer.from(`${"x".repeat(300_000)}\n${'"'.repeat(300_000)}`),
      [Buffer.from("nested"), 9007199254740993n, new RespError('ERR "quoted"')],
      new RespError("WRONGTYPE Operation against a key holding the wrong kind of value"),
    ];
    const body = entriesBody(replies, false);
    expect(decode(body)).toBe(renderEntries(replies, false));
    expect(JSON.parse(decode(body))[1]).toEqual({ result: "a\ufffdb" });
    // The writer's scratch space is reused: a later, shorter answer carries nothing of an earlier one.
    expect(decode(entriesBody([Buffer.from("ok")], false))).toBe('[{"result":"ok"}]');
  });

  test("base64 answers stay text", () => {
    expect(entriesBody([Buffer.from("é")], true)).toBe('[{"result":"w6k="}]');
  });
});

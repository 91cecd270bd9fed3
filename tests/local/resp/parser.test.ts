import { expect, test } from "bun:test";
import { RespParser } from "../../../src/local/resp/parser.ts";
import { RespError, type RespReply } from "../../../src/local/resp/reply.ts";

const wire = Buffer.from(
  "+OK\r\n-ERR bad thing\r\n:42\r\n:-7\r\n:12345678901234567890\r\n$-1\r\n*-1\r\n$0\r\n\r\n" +
    "$5\r\nhe\r\nl\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n*0\r\n$10\r\n0123456789\r\n",
);

function decode(chunks: Buffer[]): RespReply[] {
  const replies: RespReply[] = [];
  const parser = new RespParser((reply) => replies.push(reply));
  for (const chunk of chunks) parser.feed(chunk);
  return replies;
}

const expected: RespReply[] = [
  Buffer.from("OK"),
  new RespError("ERR bad thing"),
  42,
  -7,
  12345678901234567890n,
  null,
  null,
  Buffer.alloc(0),
  Buffer.from("he\r\nl"),
  [1, [Buffer.from("a"), null], Buffer.from("x")],
  [],
  Buffer.from("0123456789"),
];

test("decodes every RESP2 type from one chunk", () => {
  const replies = decode([wire]);
  expect(replies).toEqual(expected);
  expect((replies[1] as RespError).message).toBe("ERR bad thing");
});

test("decodes the same whatever the chunk boundaries", () => {
  for (let cut = 1; cut < wire.length; cut++) {
    expect(decode([wire.subarray(0, cut), wire.subarray(cut)])).toEqual(expected);
  }
  expect(decode(Array.from(wire, (byte) => Buffer.from([byte])))).toEqual(expected);
});

test("a large bulk string split into many chunks is assembled once enough bytes arrived", () => {
  const value = Buffer.alloc(300_000, 7);
  const bytes = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from("\r\n:1\r\n")]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 16384) chunks.push(bytes.subarray(at, at + 16384));
  expect(decode(chunks)).toEqual([value, 1]);
});

test("an unknown type byte is a protocol error", () => {
  expect(() => decode([Buffer.from("?what\r\n")])).toThrow(/RESP protocol error/);
});

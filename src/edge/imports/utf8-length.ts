// The UTF-8 size of a string, measured without keeping an encoded copy: an upload measures every chunk it
// queues, and a copy made only to read its length would be garbage produced at the upload's full rate.
const encoder = new TextEncoder();
let scratch = new Uint8Array(0);

/** The UTF-8 byte length of `text`, or undefined when it is longer than `limit` bytes. */
export function utf8LengthUpTo(text: string, limit: number): number | undefined {
  // Every UTF-16 code unit takes at least one byte.
  if (text.length > limit) return undefined;
  if (scratch.length < limit) scratch = new Uint8Array(limit);
  const { read, written } = encoder.encodeInto(
    text,
    scratch.length === limit ? scratch : scratch.subarray(0, limit),
  );
  return read < text.length ? undefined : written;
}

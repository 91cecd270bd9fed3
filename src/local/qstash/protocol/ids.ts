const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 22 random base62 characters (about 131 bits). */
function randomToken(length = 22): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % 62];
  return out;
}

/** A message id, shaped like QStash's (`msg_…`). */
export function newMessageId(): string {
  return `msg_${randomToken()}`;
}

/** A schedule id (`scd_…`). */
export function newScheduleId(): string {
  return `scd_${randomToken()}`;
}

/** A DLQ id, shaped like QStash's `<unix ms>-<n>`; the random tail keeps ids from two brokers apart. */
export function newDlqId(nowMs: number): string {
  return `${nowMs}-${randomToken(10)}`;
}

// The body QStash posts to a message's failure callback once the message lands in the dead-letter queue: the
// destination's last answer and the original message, both base64-encoded. Fields Fairway does not read are
// kept but not checked, so a newer QStash adding some does not break the callback.
import { z } from "zod";

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64");

export const failureCallbackMessage = z.looseObject({
  /** The destination's last HTTP status (0 when it never answered). */
  status: z.number().int().nonnegative(),
  /** The destination's last answer body, base64. */
  body: base64.default(""),
  sourceMessageId: z.string().min(1),
  /** The original message body, base64. */
  sourceBody: base64,
  /** Retries spent before the message was given up. */
  retried: z.number().int().nonnegative().default(0),
  maxRetries: z.number().int().nonnegative().optional(),
  dlqId: z.string().optional(),
});
export type FailureCallbackMessage = z.infer<typeof failureCallbackMessage>;

/** Decodes a base64 field of the callback back to the text it carried. */
export function decodeBase64Text(value: string): string {
  const binary = atob(value);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

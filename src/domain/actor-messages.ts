// The message each actor accepts, by actor name: the edge publishes with these types and the actors host
// validates every delivery against the same schema. A new actor adds one line here.
import { z } from "zod";

/** `ping` proves the path end to end: it echoes `echo` and, when given, writes it to the Redis key `recordKey`. */
export const pingMessage = z.object({
  echo: z.string().max(1024),
  recordKey: z.string().min(1).max(256).optional(),
});

export const actorMessages = {
  ping: pingMessage,
} as const;

export type ActorName = keyof typeof actorMessages;
export type ActorMessage<N extends ActorName> = z.infer<(typeof actorMessages)[N]>;

// The smallest actor: proves publisher → QStash → signed delivery → handler, and leaves a trace in Redis.
import { pingMessage } from "../src/domain/actor-messages.ts";
import { defineActor } from "./define.ts";
import { ok } from "./outcome.ts";

/** How long a ping's trace stays in Redis. */
const RECORD_TTL_SECONDS = 3600;

export const pingActor = defineActor({
  name: "ping",
  schema: pingMessage,
  async handler(message, ctx) {
    if (message.recordKey) {
      const receipt = {
        echo: message.echo,
        messageId: ctx.delivery.messageId,
        retried: ctx.delivery.retried,
      };
      await ctx.redis.set(message.recordKey, JSON.stringify(receipt), { ex: RECORD_TTL_SECONDS });
    }
    return ok({ pong: message.echo });
  },
});

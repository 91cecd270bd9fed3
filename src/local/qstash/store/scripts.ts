import { createHash } from "node:crypto";
import { type RespArg, RespError, type RespReply } from "../../resp/index.ts";
import cancel from "./lua/cancel.lua" with { type: "text" };
import claim from "./lua/claim.lua" with { type: "text" };
import dlqRetry from "./lua/dlq-retry.lua" with { type: "text" };
import fireSchedule from "./lua/fire-schedule.lua" with { type: "text" };
import lib from "./lua/lib.lua" with { type: "text" };
import publish from "./lua/publish.lua" with { type: "text" };
import queueUpdate from "./lua/queue-update.lua" with { type: "text" };
import renew from "./lua/renew.lua" with { type: "text" };
import scheduleSave from "./lua/schedule-save.lua" with { type: "text" };
import scheduleUpdate from "./lua/schedule-update.lua" with { type: "text" };
import settle from "./lua/settle.lua" with { type: "text" };
import type { RedisLink } from "./redis-link.ts";

/** A broker Lua script: the shared library followed by the script's own body. */
export interface BrokerScript {
  readonly name: string;
  /** The script's own text, without the library. */
  readonly body: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): BrokerScript {
  const source = `${lib}\n${body}`;
  return { name, body, source, sha: createHash("sha1").update(source).digest("hex") };
}

export const scripts = {
  publish: script("publish", publish),
  claim: script("claim", claim),
  settle: script("settle", settle),
  renew: script("renew", renew),
  cancel: script("cancel", cancel),
  fireSchedule: script("fire-schedule", fireSchedule),
  dlqRetry: script("dlq-retry", dlqRetry),
  queueUpdate: script("queue-update", queueUpdate),
  scheduleSave: script("schedule-save", scheduleSave),
  scheduleUpdate: script("schedule-update", scheduleUpdate),
} as const;

/**
 * Runs a broker script with the key prefix as its only key: EVALSHA first, EVAL (which also caches it)
 * when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 */
export async function runScript(
  redis: RedisLink,
  which: BrokerScript,
  prefix: string,
  args: readonly RespArg[],
): Promise<RespReply> {
  let reply = await redis.send(["EVALSHA", which.sha, 1, prefix, ...args]);
  if (reply instanceof RespError && reply.message.startsWith("NOSCRIPT")) {
    reply = await redis.send(["EVAL", which.source, 1, prefix, ...args]);
  }
  if (reply instanceof RespError) throw new RespError(`${which.name}.lua: ${reply.message}`);
  return reply;
}

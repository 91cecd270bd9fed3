import { RespError, type RespReply } from "../resp/index.ts";
import { type Command, placementOf } from "./commands.ts";
import type { RedisLinks } from "./redis-links.ts";

/** What a transaction came to: EXEC's replies, or the error that aborted it (EXECABORT). */
export type TransactionOutcome = { replies: RespReply[] } | { aborted: string };

/**
 * Runs `commands` as one MULTI/EXEC on a dedicated connection, written in one go.
 * A shared connection would interleave other callers' commands into the transaction.
 */
export async function runTransaction(links: RedisLinks, commands: Command[]): Promise<TransactionOutcome> {
  for (const command of commands) placementOf(command, true);
  const connection = await links.dedicated.acquire();
  let replies: RespReply[];
  try {
    replies = await connection.pipeline([["MULTI"], ...commands, ["EXEC"]]);
  } catch (error) {
    links.dedicated.destroy(connection);
    throw error;
  }
  links.dedicated.release(connection);
  const exec = replies[replies.length - 1] as RespReply;
  if (exec instanceof RespError) return { aborted: exec.message };
  if (!Array.isArray(exec)) return { aborted: "EXECABORT Transaction discarded" };
  return { replies: exec };
}

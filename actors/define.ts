// How an actor is declared: a name (its route is POST /actors/<name>), a message schema and a handler.
import type { Redis } from "@upstash/redis";
import type { Sql } from "postgres";
import type { z } from "zod";
import type { Publisher } from "../src/publisher/index.ts";
import type { WarehouseDb } from "../src/warehouse/db.ts";
import type { Logger } from "./log.ts";
import type { Outcome } from "./outcome.ts";

/** Shared clients every handler may use. */
export interface ActorServices {
  /** Drizzle over the warehouse pool, and the postgres.js client under it for bulk statements. */
  db: WarehouseDb;
  sql: Sql;
  redis: Redis;
  publisher: Publisher;
}

/** Facts about this delivery, read from the QStash headers. */
export interface Delivery {
  messageId: string;
  /** 0 on the first attempt, then 1, 2, … as QStash retries. */
  retried: number;
  scheduleId?: string;
  /** How many `later` re-dispatches led here (0 for a fresh message), and the message that started the chain. */
  laterCount: number;
  originMessageId: string;
}

export interface ActorContext extends ActorServices {
  actor: string;
  delivery: Delivery;
  log: Logger;
}

export interface ActorDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
  handler: (message: z.infer<S>, ctx: ActorContext) => Promise<Outcome>;
  /** `later` re-dispatches allowed before the message is failed to the dead-letter queue. */
  maxLater?: number;
}

/** Any actor, whatever its message type, as kept in the registry. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds actors of different message types
export type AnyActor = ActorDefinition<any>;

export const DEFAULT_MAX_LATER = 1000;

export function defineActor<S extends z.ZodType>(definition: ActorDefinition<S>): ActorDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`actor name "${definition.name}" must be lowercase letters, digits and dashes`);
  }
  return definition;
}

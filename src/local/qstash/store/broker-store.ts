import type { RespArg, RespReply } from "../../resp/index.ts";
import {
  type DlqEntry,
  draftFields,
  hashReply,
  type MessageDraft,
  readDlqEntry,
  readMessage,
  type StoredMessage,
} from "./message-record.ts";
import type { RedisLink } from "./redis-link.ts";
import { type BrokerScript, runScript, scripts } from "./scripts.ts";

/** When a message becomes due: a (time-scaled) delay, or an absolute not-before scaled by `timeScale`. */
export interface DueTiming {
  delayMs?: number;
  notBeforeMs?: number;
  timeScale: number;
}

export type PublishResult =
  | { stored: true; messageId: string; dueAt: number; now: number }
  | { stored: false; messageId: string };

/** A message claimed for one delivery attempt, with the lease token that settles it. */
export interface ClaimedMessage {
  message: StoredMessage;
  token: string;
}

export interface ClaimResult {
  /** The Redis clock when the claim ran. */
  now: number;
  /** Earliest time something else becomes due (-1 for nothing). */
  nextDue: number;
  /** The claim stopped early: call again at once. */
  more: boolean;
  dueSchedules: { id: string; fireAt: string }[];
  claimed: ClaimedMessage[];
}

export type AttemptOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number }
  | { kind: "failed"; dlqId: string };

/** The last answer a destination gave (or why it gave none). */
export interface AttemptResponse {
  status?: number;
  headers: Record<string, string[]>;
  body: Uint8Array;
  error?: string;
}

export interface QueueRecord {
  name: string;
  parallelism: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
  lag: number;
}

export interface ScheduleRecord {
  id: string;
  settings: Map<string, Buffer>;
  template: Map<string, Buffer>;
}

function num(reply: RespReply): number {
  return Number(String(reply));
}

/**
 * All broker state in Redis: every key starts with one hash tag (`{prefix}`), and every change that
 * touches several keys is one Lua script (see ./lua).
 */
export class BrokerStore {
  /** The hash tag every key starts with. */
  readonly tag: string;

  constructor(
    readonly redis: RedisLink,
    keyPrefix: string,
  ) {
    this.tag = keyPrefix.includes("{") ? keyPrefix : `{${keyPrefix}}`;
  }

  key(suffix: string): string {
    return `${this.tag}:${suffix}`;
  }

  /** The pub/sub channel on which brokers tell each other that something became due. */
  get wakeChannel(): string {
    return this.key("wake");
  }

  private run(which: BrokerScript, args: readonly RespArg[]): Promise<RespReply> {
    return runScript(this.redis, which, this.tag, args);
  }

  async publish(
    id: string,
    draft: MessageDraft,
    timing: DueTiming,
    dedupKey: string | undefined,
    brokerId: string,
  ): Promise<PublishResult> {
    const reply = (await this.run(scripts.publish, [
      id,
      dedupKey ?? "",
      timing.delayMs === undefined ? "" : Math.round(timing.delayMs),
      timing.notBeforeMs === undefined ? "" : Math.round(timing.notBeforeMs),
      timing.timeScale,
      brokerId,
      ...draftFields(draft),
    ])) as RespReply[];
    if (num(reply[0] as RespReply) === 0) return { stored: false, messageId: String(reply[1]) };
    return {
      stored: true,
      messageId: id,
      dueAt: num(reply[2] as RespReply),
      now: num(reply[3] as RespReply),
    };
  }

  async claim(
    limit: number,
    leaseMs: number,
    scanLimit: number,
    scheduleLimit: number,
  ): Promise<ClaimResult> {
    const reply = (await this.run(scripts.claim, [limit, leaseMs, scanLimit, scheduleLimit])) as RespReply[];
    const schedules = (reply[3] as RespReply[]).map(String);
    const dueSchedules: ClaimResult["dueSchedules"] = [];
    for (let i = 0; i + 1 < schedules.length; i += 2) {
      dueSchedules.push({ id: schedules[i] as string, fireAt: schedules[i + 1] as string });
    }
    const claimed: ClaimedMessage[] = [];
    for (let i = 4; i + 2 < reply.length; i += 3) {
      const id = String(reply[i]);
      const message = readMessage(id, hashReply(reply[i + 2] as RespReply));
      if (message !== undefined) claimed.push({ message, token: String(reply[i + 1]) });
    }
    return {
      now: num(reply[0] as RespReply),
      nextDue: num(reply[1] as RespReply),
      more: num(reply[2] as RespReply) === 1,
      dueSchedules,
      claimed,
    };
  }

  /** Records an attempt's outcome and stores the callback messages it produced. */
  async settle(
    claimed: ClaimedMessage,
    outcome: AttemptOutcome,
    response: AttemptResponse,
    callbacks: { id: string; draft: MessageDraft }[],
  ): Promise<{ settled: boolean; promoted: number }> {
    const args: RespArg[] = [
      claimed.message.id,
      claimed.token,
      outcome.kind,
      outcome.kind === "retry" ? Math.round(outcome.delayMs) : outcome.kind === "failed" ? outcome.dlqId : "",
      response.status ?? "",
      // Only a DLQ entry keeps the last answer; skip encoding it otherwise.
      outcome.kind === "failed" ? JSON.stringify(response.headers) : "",
      outcome.kind === "failed" ? Buffer.from(response.body) : "",
      response.error ?? "",
      callbacks.length,
    ];
    for (const callback of callbacks) {
      const fields = draftFields(callback.draft);
      args.push(callback.id, fields.length, ...fields);
    }
    const reply = (await this.run(scripts.settle, args)) as RespReply[];
    return { settled: num(reply[0] as RespReply) === 1, promoted: num(reply[1] as RespReply) };
  }

  async renew(leaseMs: number, held: { id: string; token: string }[]): Promise<number> {
    if (held.length === 0) return 0;
    const args: RespArg[] = [leaseMs];
    for (const { id, token } of held) args.push(id, token);
    return num(await this.run(scripts.renew, args));
  }

  async cancel(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return num(await this.run(scripts.cancel, ids));
  }

  async getMessage(id: string): Promise<StoredMessage | undefined> {
    return readMessage(id, hashReply(await this.redis.call(["HGETALL", this.key(`msg:${id}`)])));
  }

  /** Every message not yet delivered, cancelled or dead-lettered. */
  async liveMessageIds(): Promise<string[]> {
    return ((await this.redis.call(["SMEMBERS", this.key("live")])) as RespReply[]).map(String);
  }

  async getMessages(ids: string[]): Promise<StoredMessage[]> {
    if (ids.length === 0) return [];
    const replies = await this.redis.pipeline(ids.map((id) => ["HGETALL", this.key(`msg:${id}`)]));
    return replies.flatMap((reply, i) => readMessage(ids[i] as string, hashReply(reply)) ?? []);
  }

  async fireSchedule(id: string, fireAt: string, nextFireAt: number, messageId: string): Promise<boolean> {
    return num(await this.run(scripts.fireSchedule, [id, fireAt, nextFireAt, messageId])) === 1;
  }

  // DLQ

  /** DLQ ids oldest first, from position `start`. */
  async dlqIds(start: number, count: number): Promise<string[]> {
    const reply = await this.redis.call(["ZRANGE", this.key("dlq"), start, start + count - 1]);
    return (reply as RespReply[]).map(String);
  }

  async getDlqEntries(dlqIds: string[]): Promise<DlqEntry[]> {
    if (dlqIds.length === 0) return [];
    const replies = await this.redis.pipeline(dlqIds.map((id) => ["HGETALL", this.key(`dlq:${id}`)]));
    return replies.flatMap((reply) => readDlqEntry(hashReply(reply)) ?? []);
  }

  async deleteDlq(dlqIds: string[]): Promise<number> {
    if (dlqIds.length === 0) return 0;
    const replies = await this.redis.pipeline([
      ["DEL", ...dlqIds.map((id) => this.key(`dlq:${id}`))],
      ["ZREM", this.key("dlq"), ...dlqIds],
    ]);
    return num(replies[1] as RespReply);
  }

  /** Sends DLQ entries again under new message ids; undefined for an entry that does not exist. */
  async retryDlq(pairs: { dlqId: string; messageId: string }[]): Promise<(string | undefined)[]> {
    if (pairs.length === 0) return [];
    const reply = (await this.run(
      scripts.dlqRetry,
      pairs.flatMap((pair) => [pair.dlqId, pair.messageId]),
    )) as RespReply[];
    return reply.map((value) => (value === null ? undefined : String(value)));
  }

  // Queues

  async updateQueue(
    name: string,
    action: "upsert" | "pause" | "resume" | "delete",
    parallelism = 1,
    paused = false,
  ): Promise<boolean> {
    const reply = await this.run(scripts.queueUpdate, [name, action, parallelism, paused ? "1" : "0"]);
    return num(reply) === 1;
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    const [conf, lag] = await this.redis.pipeline([
      ["HGETALL", this.key(`q:${name}`)],
      ["LLEN", this.key(`q:${name}:wait`)],
    ]);
    const hash = hashReply(conf as RespReply);
    if (hash.size === 0) return undefined;
    return {
      name,
      parallelism: Number(hash.get("parallelism") ?? 1),
      paused: String(hash.get("paused")) === "1",
      createdAt: Number(hash.get("createdAt") ?? 0),
      updatedAt: Number(hash.get("updatedAt") ?? 0),
      lag: num(lag as RespReply),
    };
  }

  async listQueues(): Promise<QueueRecord[]> {
    const names = ((await this.redis.call(["SMEMBERS", this.key("queues")])) as RespReply[])
      .map(String)
      .sort();
    const queues = await Promise.all(names.map((name) => this.getQueue(name)));
    return queues.filter((queue): queue is QueueRecord => queue !== undefined);
  }

  // Schedules

  async saveSchedule(
    id: string,
    firstFireAt: number,
    settings: (string | number)[],
    template: (string | Uint8Array)[],
  ): Promise<void> {
    await this.run(scripts.scheduleSave, [id, firstFireAt, settings.length, ...settings, ...template]);
  }

  async updateSchedule(id: string, action: "pause" | "resume" | "delete", nextFireAt = -1): Promise<boolean> {
    return num(await this.run(scripts.scheduleUpdate, [id, action, nextFireAt])) === 1;
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    const [settings, template] = await this.redis.pipeline([
      ["HGETALL", this.key(`schedule:${id}`)],
      ["HGETALL", this.key(`schedule:${id}:template`)],
    ]);
    const settingsHash = hashReply(settings as RespReply);
    if (settingsHash.size === 0) return undefined;
    return { id, settings: settingsHash, template: hashReply(template as RespReply) };
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const ids = ((await this.redis.call(["SMEMBERS", this.key("schedule-ids")])) as RespReply[])
      .map(String)
      .sort();
    const schedules = await Promise.all(ids.map((id) => this.getSchedule(id)));
    return schedules.filter((schedule): schedule is ScheduleRecord => schedule !== undefined);
  }

  /** Deletes every key under this broker's prefix (tests and resets; never used while serving). */
  async destroyAll(): Promise<void> {
    let cursor = "0";
    do {
      const [next, keys] = (await this.redis.call([
        "SCAN",
        cursor,
        "MATCH",
        `${this.tag}:*`,
        "COUNT",
        1000,
      ])) as [Buffer, Buffer[]];
      cursor = String(next);
      if (keys.length > 0) await this.redis.call(["UNLINK", ...keys]);
    } while (cursor !== "0");
  }
}

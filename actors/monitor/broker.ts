// The monitor's look at the broker through the QStash API (all a managed QStash shows): the dead-letter queue,
// counted per actor and tenant. Dead-lettered messages are also taken out of the pending sets, since no
// delivery will ever finish them. The result is kept in Redis for the edge (/v1/stats, /metrics).
import type { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { globalKeys, keys } from "../../src/domain/keys.ts";
import type { BrokerView } from "../../src/domain/monitoring/collect.ts";
import { tenantOfBody } from "../../src/domain/monitoring/observed-publisher.ts";
import { type MonitorScope, scopedKey } from "../../src/domain/monitoring/recorder.ts";

/** At most this many DLQ pages (of 100) per run: a huge DLQ is counted as "at least". */
const MAX_DLQ_PAGES = 50;
const ORIGIN_HEADER = "Fairway-Origin-Message-Id";

export async function lookAtBroker(
  client: Client,
  redis: Redis,
  scope: MonitorScope,
  now = Date.now(),
): Promise<BrokerView> {
  const dlq: Record<string, number> = {};
  const finished: { tenantId: string; actor: string; ids: string[] }[] = [];
  let total = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_DLQ_PAGES; page++) {
    const listed = await client.dlq.listMessages({ cursor, count: 100 });
    for (const message of listed.messages) {
      const actor = /\/actors\/([a-z0-9-]+)(?:$|[?#])/.exec(message.url)?.[1];
      if (!actor) continue;
      total++;
      const tenantId = tenantOfBody(message.body ?? "");
      const lane = `${actor}|${tenantId}`;
      dlq[lane] = (dlq[lane] ?? 0) + 1;
      const origin = headerValue(message.header, ORIGIN_HEADER);
      finished.push({ tenantId, actor, ids: origin ? [message.messageId, origin] : [message.messageId] });
    }
    cursor = listed.cursor;
    if (!cursor) break;
  }
  if (finished.length > 0) {
    const pipeline = redis.pipeline();
    for (const entry of finished)
      pipeline.zrem(keys.monitorPending(entry.tenantId, entry.actor), ...entry.ids);
    await pipeline.exec();
  }
  const view: BrokerView = { checkedAt: now, dlqTotal: total, dlq };
  await redis.set(scopedKey(globalKeys.monitorBroker, scope), JSON.stringify(view), { ex: 3600 });
  return view;
}

/**
 * Adds this run's DLQ size to the history and returns the size `windowMinutes` ago: the latest sample at or
 * before then, else the oldest one (the history is younger than the window); null on the very first run.
 */
export async function dlqBaseline(
  redis: Redis,
  scope: MonitorScope,
  total: number,
  windowMinutes: number,
  now = Date.now(),
): Promise<number | null> {
  const key = scopedKey(globalKeys.monitorDlqHistory, scope);
  const windowMs = windowMinutes * 60_000;
  const [before, oldest] = (await Promise.all([
    redis.zrange(key, now - windowMs, "-inf", { byScore: true, rev: true, offset: 0, count: 1 }),
    redis.zrange(key, 0, 0),
  ])) as [unknown[], unknown[]];
  await redis.zadd(key, { score: now, member: `${now}:${total}` });
  await redis.zremrangebyscore(key, "-inf", now - 2 * windowMs);
  await redis.expire(key, Math.ceil((2 * windowMs) / 1000));
  const sample = before[0] ?? oldest[0];
  if (sample === undefined) return null;
  const size = Number(String(sample).split(":")[1]);
  return Number.isFinite(size) ? size : null;
}

function headerValue(headers: Record<string, string[]> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, values] of Object.entries(headers)) {
    if (key.toLowerCase() === name.toLowerCase()) return values[0];
  }
  return undefined;
}

// One computation per (tenant, query hash, data version) at a time: the first caller starts a flight and
// publishes it; everyone else asking the same question joins it by its query id.
import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../../domain/keys.ts";
import { QUERY_STATUS_TTL_SECONDS } from "../../domain/query-jobs.ts";

/**
 * KEYS[1] inflight(t, hash), KEYS[2] query(t, new id).
 * ARGV[1] new query id, ARGV[2] status-key prefix query(t, ""), ARGV[3] data version, ARGV[4] flight TTL s,
 * ARGV[5] status TTL s, ARGV[6] hash, ARGV[7] created-at ms.
 * A flight counts only while its status is queued or running for this data version or a newer one; then the
 * caller joins it. Otherwise the caller starts a new one: it takes the in-flight key and writes its status.
 * (The running flight's status key is named from the prefix: same hash tag, so the same Cluster slot.)
 * Returns {1, new id} when the caller started the flight, {0, running id} when it joined one.
 */
const START_FLIGHT_LUA = `
local current = redis.call('GET', KEYS[1])
if current then
  local state = redis.call('HMGET', ARGV[2] .. current, 'status', 'dataVersion')
  if (state[1] == 'queued' or state[1] == 'running') and tonumber(state[2] or '-1') >= tonumber(ARGV[3]) then
    return {0, current}
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
redis.call('HSET', KEYS[2], 'status', 'queued', 'hash', ARGV[6], 'dataVersion', ARGV[3], 'createdAt', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {1, ARGV[1]}
`;

/**
 * KEYS[1] inflight(t, hash), KEYS[2] query(t, id). ARGV[1] the id, ARGV[2] the error message, ARGV[3] now (ms).
 * Undoes a flight whose message could not be published: its waiters see an error, the next caller starts over.
 */
const ABANDON_FLIGHT_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[2], 'status', 'error', 'error', ARGV[2], 'finishedAt', ARGV[3])
return 1
`;

/** How long a flight's claim lasts if its completion never comes (the actor normally ends it sooner). */
export const FLIGHT_TTL_SECONDS = 600;

export interface Flight {
  queryId: string;
  /** True when this caller must publish the job; false when it joined a flight already under way. */
  started: boolean;
}

export function newQueryId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `q${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** A query id is `q` and 24 hex digits; anything else cannot name a query. */
export const QUERY_ID = /^q[0-9a-f]{24}$/;

export class SingleFlight {
  private readonly start;
  private readonly abandonScript;

  constructor(redis: Redis) {
    this.start = redis.createScript<[number, string]>(START_FLIGHT_LUA);
    this.abandonScript = redis.createScript<number>(ABANDON_FLIGHT_LUA);
  }

  async join(tenantId: string, hash: string, dataVersion: number): Promise<Flight> {
    const queryId = newQueryId();
    const [started, id] = await this.start.exec(
      [keys.inflight(tenantId, hash), keys.query(tenantId, queryId)],
      [
        queryId,
        keys.query(tenantId, ""),
        String(dataVersion),
        String(FLIGHT_TTL_SECONDS),
        String(QUERY_STATUS_TTL_SECONDS),
        hash,
        String(Date.now()),
      ],
    );
    return { queryId: String(id), started: Number(started) === 1 };
  }

  async abandon(tenantId: string, hash: string, queryId: string, error: string): Promise<void> {
    await this.abandonScript.exec(
      [keys.inflight(tenantId, hash), keys.query(tenantId, queryId)],
      [queryId, error, String(Date.now())],
    );
  }
}

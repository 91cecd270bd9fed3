// The influencer registry's Lua scripts. They live in TypeScript strings rather than .lua files because the edge
// runs on Workers and Deno as well as Bun, and not all of them can import text files. Each state change that
// must not race (registering, stopping, a tick claiming its slot) is one script on one tenant's keys, so
// they all share the tenant's hash tag (one Redis Cluster slot).
//
// Influencer hash fields: id, status (active | stopped), gen (the current loop), interval (s), createdAt,
// updatedAt, stoppedAt, cursorAt (the tick in hand), nextAt (the tick published next), lastPointAt (ts of the
// last recorded point), lastSeenAt, lastError, lastErrorAt, points, missed, failures. Times are epoch ms.

/**
 * register: start tracking influencers, or change the interval of those already tracked.
 * KEYS[1]      sorted set of the tenant's influencers
 * KEYS[1+i]    hash of influencer i
 * ARGV[1]      interval (s)
 * ARGV[2]      now (ms)
 * ARGV[3]      stall grace (ms): an active loop whose next tick is this much overdue (plus one interval) is dead
 * ARGV[4+3(i-1)], +1, +2   influencer i: its index member (the JSON-quoted id), a fresh generation, its
 *                          first tick time (ms)
 * Returns, flattened, per influencer: verdict, generation, next tick time, 1 when the caller must publish it.
 *   created | restarted (was stopped) | revived (its loop had stalled): a new loop; publish its first tick.
 *   updated (new interval) | unchanged: the running loop goes on; publish only when its first tick has not
 *   run yet (the earlier publish may have failed; deduplication makes a repeat harmless).
 */
export const REGISTER_LUA = `
local interval = ARGV[1]
local now = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local out = {}
for i = 2, #KEYS do
  local h = KEYS[i]
  local base = 4 + 3 * (i - 2)
  local id, gen, first = ARGV[base], ARGV[base + 1], tonumber(ARGV[base + 2])
  local f = redis.call('HMGET', h, 'status', 'gen', 'interval', 'nextAt', 'cursorAt')
  local alive = false
  if f[1] == 'active' then
    alive = now <= tonumber(f[4]) + tonumber(f[3]) * 1000 + grace
  end
  if alive then
    local verdict = 'unchanged'
    if f[3] ~= interval then
      redis.call('HSET', h, 'interval', interval, 'updatedAt', now)
      verdict = 'updated'
    end
    local publish = 0
    if tonumber(f[5]) == 0 then publish = 1 end
    table.insert(out, verdict)
    table.insert(out, f[2])
    table.insert(out, tonumber(f[4]))
    table.insert(out, publish)
  else
    local verdict = 'created'
    if f[1] == 'stopped' then verdict = 'restarted' elseif f[1] == 'active' then verdict = 'revived' end
    redis.call('HSET', h, 'id', id, 'status', 'active', 'gen', gen, 'interval', interval,
      'nextAt', first, 'cursorAt', 0, 'updatedAt', now)
    redis.call('HSETNX', h, 'createdAt', now)
    redis.call('ZADD', KEYS[1], 'NX', now, id)
    table.insert(out, verdict)
    table.insert(out, gen)
    table.insert(out, first)
    table.insert(out, 1)
  end
end
return out
`;

/**
 * stop: stop tracking one influencer. Its loop ends at its next tick; the hash stays, so the influencer is
 * still listed and its metrics are still readable.
 * KEYS[1]  influencer hash
 * ARGV[1]  now (ms)
 * Returns: missing (never registered) | stopped (already) | stopping.
 */
export const STOP_LUA = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status == 'stopped' then return 'stopped' end
redis.call('HSET', KEYS[1], 'status', 'stopped', 'updatedAt', ARGV[1], 'stoppedAt', ARGV[1])
return 'stopping'
`;

/**
 * claim: a tick asks whether it may run and which tick comes next. Only the loop's own next tick (or a second
 * delivery of the tick in hand) passes, so a stray or duplicated message can never fork the loop.
 * KEYS[1]  influencer hash
 * ARGV[1]  the tick's generation
 * ARGV[2]  the tick's scheduled time `at` (ms)
 * ARGV[3]  now (ms)
 * ARGV[4]  how long before the next tick a read must be able to start (ms)
 * Returns {verdict, next tick time, interval (s), 1 if a point for \`at\` is already recorded, 1 if the tick is late}:
 *   go      the tick is the loop's next: cursor moved to it, next tick set (grid times too close to now skipped)
 *   again   a second delivery of the tick in hand: same next tick, so its publish deduplicates
 *   stopped the loop's influencer was stopped: end the loop
 *   superseded | gone  not this loop's tick (an older loop, or an unknown influencer): drop it
 * A tick is late when it starts too close to (or past) \`at\` + interval to read the provider in time: it collects
 * nothing (counted in missed).
 */
export const CLAIM_LUA = `
local f = redis.call('HMGET', KEYS[1], 'status', 'gen', 'interval', 'cursorAt', 'nextAt', 'lastPointAt')
if not f[1] then return {'gone'} end
if f[2] ~= ARGV[1] then return {'superseded'} end
if f[1] ~= 'active' then return {'stopped', 0, tonumber(f[3])} end
local at, now = tonumber(ARGV[2]), tonumber(ARGV[3])
local step = tonumber(f[3]) * 1000
local recorded = 0
if tonumber(f[6] or '0') >= at then recorded = 1 end
local late = 0
if now - at >= step - tonumber(ARGV[4]) then late = 1 end
if at == tonumber(f[4]) then
  return {'again', tonumber(f[5]), tonumber(f[3]), recorded, late}
end
if at ~= tonumber(f[5]) then return {'superseded'} end
-- The next tick must leave room to read: a late tick sheds the slot right after it, so a collector that fell
-- behind does less work until it catches up instead of running every tick too late to collect anything.
local horizon = now + tonumber(ARGV[4])
local nextAt, skipped = at + step, 0
if nextAt <= horizon then
  local k = math.floor((horizon - at) / step) + 1
  nextAt = at + k * step
  skipped = k - 1
end
redis.call('HSET', KEYS[1], 'cursorAt', at, 'nextAt', nextAt)
if skipped + late > 0 then redis.call('HINCRBY', KEYS[1], 'missed', skipped + late) end
return {'go', nextAt, tonumber(f[3]), recorded, late}
`;

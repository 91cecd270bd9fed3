// Monitoring's Redis scripts. The recording ones touch one tenant's keys only (one Cluster slot); the alert
// transition touches the global alerts hash only. Counter fields are `<metric>|<actor>` or
// `<metric>|<actor>|<bucket>` for latency histograms (see histogram.ts). Totals of a tenant that does nothing
// for 30 days expire (TOTALS_TTL), so the tenant index can forget it.

const TOTALS_TTL_SECONDS = 30 * 86_400;

/**
 * published: a message was handed to QStash for an actor.
 * KEYS[1]  pending (sorted set: origin message id → due time)   KEYS[2] finished (recent tombstones)
 * KEYS[3]  the minute's counters   KEYS[4] the totals   KEYS[5] the tenant's actors (set)
 * ARGV[1]  message id   ARGV[2] due time (ms)   ARGV[3] actor   ARGV[4] pending TTL (s)   ARGV[5] minute TTL (s)
 * Returns  1 when recorded as pending, 0 when the message had already finished (its delivery beat this record).
 */
export const PUBLISHED = `
redis.call('SADD', KEYS[5], ARGV[3])
redis.call('EXPIRE', KEYS[5], ${TOTALS_TTL_SECONDS})
redis.call('HINCRBY', KEYS[3], 'published|' .. ARGV[3], 1)
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('HINCRBY', KEYS[4], 'published|' .. ARGV[3], 1)
redis.call('EXPIRE', KEYS[4], ${TOTALS_TTL_SECONDS})
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`;

/**
 * started: a delivery began.
 * KEYS[1]  running (sorted set: attempt token → start time)   KEYS[2] the tenant's actors (set)
 * ARGV[1]  attempt token   ARGV[2] now (ms)   ARGV[3] TTL (s)   ARGV[4] actor
 */
export const STARTED = `
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], ${TOTALS_TTL_SECONDS})
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * finished: a delivery answered. Counted: deliveries, failures (anything but ok and later), the outcome, and
 * for ok the handler's duration and the queue latency (due time → done). ok and fail end the message
 * (fail sends it to the dead-letter queue): it leaves `pending` and leaves a tombstone; retry and later keep it.
 * KEYS[1]  running   KEYS[2] pending   KEYS[3] finished   KEYS[4] the minute's counters   KEYS[5] totals
 * KEYS[6]  the tenant's actors (set)
 * ARGV[1]  attempt token   ARGV[2] origin message id   ARGV[3] now (ms)   ARGV[4] outcome: ok|fail|retry|later|error
 * ARGV[5]  actor   ARGV[6] handler duration (ms)   ARGV[7] minute TTL (s)   ARGV[8] tombstone window (ms)
 * ARGV[9]  pending TTL (s)   ARGV[10] latency bucket bounds, comma-separated (ms)
 * Returns  queue latency in ms, or -1 when unknown (the message was not recorded as pending)
 */
export const FINISHED = `
local now = tonumber(ARGV[3])
local outcome, actor = ARGV[4], ARGV[5]
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[6], actor)
redis.call('EXPIRE', KEYS[6], ${TOTALS_TTL_SECONDS})
local bounds = {}
for b in string.gmatch(ARGV[10], '[^,]+') do bounds[#bounds + 1] = tonumber(b) end
local function bucket(ms)
  for i, bound in ipairs(bounds) do
    if ms <= bound then return i - 1 end
  end
  return #bounds
end
local function count(field)
  redis.call('HINCRBY', KEYS[4], field, 1)
  redis.call('HINCRBY', KEYS[5], field, 1)
end
count('deliveries|' .. actor)
count(outcome .. '|' .. actor)
if outcome ~= 'ok' and outcome ~= 'later' then count('failures|' .. actor) end
local latency = -1
if outcome == 'ok' or outcome == 'fail' then
  local due = redis.call('ZSCORE', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[3], now, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[8]))
  redis.call('EXPIRE', KEYS[3], math.ceil(tonumber(ARGV[8]) / 1000))
  if outcome == 'ok' then
    redis.call('HINCRBY', KEYS[4], 'run|' .. actor .. '|' .. bucket(tonumber(ARGV[6])), 1)
    if due then
      latency = math.max(0, now - tonumber(due))
      redis.call('HINCRBY', KEYS[4], 'e2e|' .. actor .. '|' .. bucket(latency), 1)
    end
  end
end
redis.call('EXPIRE', KEYS[4], ARGV[7])
redis.call('EXPIRE', KEYS[5], ${TOTALS_TTL_SECONDS})
return latency
`;

/**
 * count: adds to counters of the minute and the totals.
 * KEYS[1]  the minute's counters   KEYS[2] totals
 * ARGV[1]  minute TTL (s), then (field, increment) pairs
 */
export const COUNT = `
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ${TOTALS_TTL_SECONDS})
return (#ARGV - 1) / 2
`;

/**
 * transition: one alert's state, changed only when it crosses: firing when it was not, or cleared when it was.
 * KEYS[1]  the alerts hash (alert id → JSON {firing, seq, since, clearedAt, details})
 * ARGV[1]  alert id   ARGV[2] "1" the condition holds now, "0" it does not   ARGV[3] now (ms)   ARGV[4] details (JSON)
 * Returns  {change, seq}: change 1 fired now, -1 cleared now, 0 no change; seq numbers the alert's firings.
 */
export const TRANSITION = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local state = raw and cjson.decode(raw) or nil
local seq = state and tonumber(state.seq) or 0
if ARGV[2] == '1' then
  if state and state.firing then return {0, seq} end
  seq = seq + 1
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({firing = true, seq = seq, since = tonumber(ARGV[3]),
    details = cjson.decode(ARGV[4])}))
  return {1, seq}
end
if not (state and state.firing) then return {0, seq} end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({firing = false, seq = seq, since = state.since,
  clearedAt = tonumber(ARGV[3]), details = cjson.decode(ARGV[4])}))
return {-1, seq}
`;

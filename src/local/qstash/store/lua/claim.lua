-- Claims due messages for delivery with a lease, so several brokers never deliver the same attempt.
-- First returns expired leases (a broker died mid-delivery) to the due set and promotes flow-control
-- keys whose rate window ended. A due message that its queue or flow-control key cannot start yet
-- moves to that lane's wait list; it comes back when a slot frees.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  most messages to claim
-- ARGV[2]  lease length in ms
-- ARGV[3]  most due entries to look at in this call
-- ARGV[4]  most due schedules to report
--
-- Returns {now, next_due, more, schedules, claimed…}:
--   next_due   earliest due time of what is left (-1 when nothing), to time the next claim
--   more       1 when the scan stopped early and due messages may remain
--   schedules  flat {id, fire_at, …} of schedules due now
--   claimed    per message: id, lease token, and its hash as a flat field/value list

local now = now_ms()
local limit = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local scan_limit = tonumber(ARGV[3])
local due = key("due")
local inflight = key("inflight")

for _, id in ipairs(redis.call("ZRANGEBYSCORE", inflight, "-inf", now, "LIMIT", 0, 100)) do
  redis.call("ZREM", inflight, id)
  local mk = msg_key(id)
  if redis.call("EXISTS", mk) == 1 then
    release_fc(mk, id, now)
    -- A new token turns away a late answer from the broker that lost the lease.
    redis.call("HINCRBY", mk, "lease", 1)
    redis.call("HSET", mk, "state", "CREATED")
    redis.call("ZADD", due, now, id)
  end
end

local fcwake = key("fcwake")
for _, fc_key in ipairs(redis.call("ZRANGEBYSCORE", fcwake, "-inf", now, "LIMIT", 0, 100)) do
  redis.call("ZREM", fcwake, fc_key)
  promote_fc(fc_key, now)
end

local claimed = {}
local scanned = 0
local more = 0
while #claimed < limit * 3 do
  local ids = redis.call("ZRANGEBYSCORE", due, "-inf", now, "LIMIT", 0, limit)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    if #claimed >= limit * 3 then
      break
    end
    scanned = scanned + 1
    redis.call("ZREM", due, id)
    local mk = msg_key(id)
    local f = redis.call("HMGET", mk, "queue", "qslot", "fcKey", "fcslot", "url")
    local ready = f[5] ~= false
    if ready and f[1] and f[2] ~= "1" then
      -- A delayed queue message joins its queue only now that it is due.
      redis.call("RPUSH", key("q:" .. f[1] .. ":wait"), id)
      promote_queue(f[1], now)
      ready = redis.call("HGET", mk, "qslot") == "1"
      if ready then
        redis.call("ZREM", due, id)
      end
    end
    if ready and f[3] and f[4] ~= "1" then
      local wait = key("fc:" .. f[3] .. ":wait")
      if redis.call("LLEN", wait) == 0 and fc_take(f[3], id, now) then
        redis.call("HSET", mk, "fcslot", "1")
      else
        redis.call("RPUSH", wait, id)
        ready = false
      end
    end
    if ready then
      local token = redis.call("HINCRBY", mk, "lease", 1)
      redis.call("HSET", mk, "state", "ACTIVE")
      redis.call("ZADD", inflight, now + lease, id)
      claimed[#claimed + 1] = id
      claimed[#claimed + 1] = token
      claimed[#claimed + 1] = redis.call("HGETALL", mk)
    end
  end
  if scanned >= scan_limit then
    more = 1
    break
  end
end
if #claimed >= limit * 3 then
  more = 1
end

local next_due = -1
local first = redis.call("ZRANGE", due, 0, 0, "WITHSCORES")
if first[2] then
  next_due = tonumber(first[2])
end
local first_wake = redis.call("ZRANGE", fcwake, 0, 0, "WITHSCORES")
if first_wake[2] and (next_due < 0 or tonumber(first_wake[2]) < next_due) then
  next_due = tonumber(first_wake[2])
end
local first_schedule = redis.call("ZRANGE", key("schedules"), 0, 0, "WITHSCORES")
if first_schedule[2] and (next_due < 0 or tonumber(first_schedule[2]) < next_due) then
  next_due = tonumber(first_schedule[2])
end

local schedules = redis.call("ZRANGEBYSCORE", key("schedules"), "-inf", now, "WITHSCORES", "LIMIT", 0, tonumber(ARGV[4]))

local out = { now, next_due, more, schedules }
for _, value in ipairs(claimed) do
  out[#out + 1] = value
end
return out

-- Gives a tenant permit back (when a token is given) and names the queries that may now run: the first
-- `free` entries of the lane. Parked ones among them are returned with their bodies and marked as woken
-- (no longer parked, lapsing after a grace period), so each park is woken once however many releases see it.
--
-- KEYS[1]  {t}:sem
-- KEYS[2]  {t}:lane
-- KEYS[3]  {t}:lane:exp
-- KEYS[4]  {t}:lane:parked
-- KEYS[5]  {t}:tenant
-- KEYS[6]  {t}:lane:whwait    while set, only the first in line is named
-- ARGV[1]  lease token to release, or "" to only look for queries to wake
-- ARGV[2]  concurrency limit when the tenant record has none
-- ARGV[3]  ms a woken entry waits for its delivery before it lapses
--
-- Returns {released, id1, body1, id2, body2, …}: released 1 / 0; body "" when that query's delivery is
-- still waiting (it is signalled, not published)

local sem, lane, lane_exp, parked = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local released = 0
if ARGV[1] ~= "" then
  released = redis.call("ZREM", sem, ARGV[1])
end
reclaim(sem, now)
prune_lane(lane, lane_exp, parked, now)
local out = { released }
local free = tenant_limit(KEYS[5], ARGV[2]) - redis.call("ZCARD", sem)
if free > 1 and redis.call("EXISTS", KEYS[6]) == 1 then
  free = 1
end
if free > 0 then
  for _, id in ipairs(redis.call("ZRANGE", lane, 0, free - 1)) do
    local body = redis.call("HGET", parked, id)
    if body then
      redis.call("HDEL", parked, id)
      redis.call("ZADD", lane_exp, now + tonumber(ARGV[3]), id)
      out[#out + 1] = id
      out[#out + 1] = body
    else
      out[#out + 1] = id
      out[#out + 1] = ""
    end
  end
end
return out

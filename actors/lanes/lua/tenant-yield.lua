-- Gives a tenant permit back because the warehouse semaphore refused the query, and puts the query back in
-- its lane at its own place (its askedAt), so waiting for the warehouse does not cost it its turn. A parked
-- entry stays parked. Until one of the tenant's queries gets a warehouse permit (or the wait lapses), only
-- the first in line may try again.
--
-- KEYS[1]  {t}:sem
-- KEYS[2]  {t}:lane
-- KEYS[3]  {t}:lane:exp
-- KEYS[4]  {t}:query:<id>
-- KEYS[5]  {t}:lane:parked
-- KEYS[6]  {t}:lane:whwait
-- ARGV[1]  query id
-- ARGV[2]  askedAt
-- ARGV[3]  the lease token to give back
-- ARGV[4]  ms the lane entry stays without another attempt
--
-- Returns the query's place in line (0 = first)

local now = now_ms()
redis.call("ZREM", KEYS[1], ARGV[3])
if redis.call("HGET", KEYS[4], "runner") == ARGV[3] then
  redis.call("HDEL", KEYS[4], "runner", "runnerChain")
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
if redis.call("HEXISTS", KEYS[5], ARGV[1]) == 1 then
  -- Still parked: keep the park's longer lapse.
  redis.call("ZADD", KEYS[3], "GT", now + tonumber(ARGV[4]), ARGV[1])
else
  redis.call("ZADD", KEYS[3], now + tonumber(ARGV[4]), ARGV[1])
end
redis.call("SET", KEYS[6], "1", "PX", ARGV[4])
return redis.call("ZRANK", KEYS[2], ARGV[1])

-- Takes a permit when fewer than `limit` live leases exist. Expired leases are reclaimed first.
--
-- KEYS[1]  the semaphore (sorted set of leases)
-- ARGV[1]  limit (permits in all)
-- ARGV[2]  lease TTL in ms
-- ARGV[3]  lease token (the caller's secret: only it can renew or release the lease)
--
-- Returns {code, time, holders}:
--   1 acquired: time = the lease's expiry
--   0 full: time = when the earliest live lease expires
--   2 already held by this token (not extended): time = its expiry

local sem = KEYS[1]
local now = now_ms()
reclaim(sem, now)
local held = redis.call("ZSCORE", sem, ARGV[3])
if held then
  return { 2, tonumber(held), redis.call("ZCARD", sem) }
end
local holders = redis.call("ZCARD", sem)
if holders >= tonumber(ARGV[1]) then
  local first = redis.call("ZRANGE", sem, 0, 0, "WITHSCORES")
  return { 0, tonumber(first[2] or now), holders }
end
return { 1, grant(sem, ARGV[3], now, tonumber(ARGV[2])), holders + 1 }

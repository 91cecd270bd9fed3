-- Extends a live lease owned by the token. An expired lease is never renewed, even when it is still in
-- the set: its permit may already have been counted as free, so the holder must stop and acquire again.
--
-- KEYS[1]  the semaphore (sorted set of leases)
-- ARGV[1]  lease token
-- ARGV[2]  new TTL in ms, counted from now
--
-- Returns {code, expiry}:
--   1 extended: expiry = the new expiry
--   0 not held (released, reclaimed, or never granted): expiry = 0
--  -1 expired (and now removed): expiry = when it expired

local sem = KEYS[1]
local now = now_ms()
local score = redis.call("ZSCORE", sem, ARGV[1])
if not score then
  return { 0, 0 }
end
if tonumber(score) <= now then
  redis.call("ZREM", sem, ARGV[1])
  return { -1, tonumber(score) }
end
return { 1, grant(sem, ARGV[1], now, tonumber(ARGV[2])) }

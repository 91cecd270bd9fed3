-- Lease helpers shared by every semaphore script (prepended to each before loading).
--
-- A semaphore is a sorted set: member = lease (an unguessable token, for the warehouse semaphore
-- `<token>:<tenant>`), score = when the lease expires, in ms on the Redis clock. Times always come
-- from Redis `TIME`, never from a caller, so hosts with skewed clocks agree on who holds what.
-- A lease is live while its score is in the future. Expired leases are removed by the next script
-- that looks, so a crashed holder's permit comes back within its TTL without anyone releasing it.

local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Removes every expired lease of `sem`; returns how many.
local function reclaim(sem, now)
  return redis.call("ZREMRANGEBYSCORE", sem, "-inf", now)
end

-- Adds a lease for `member` expiring `ttl` ms from now; returns its expiry.
local function grant(sem, member, now, ttl)
  local expires = now + ttl
  redis.call("ZADD", sem, expires, member)
  return expires
end

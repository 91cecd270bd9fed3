-- One attempt by a query to take a permit of its tenant's semaphore, in lane order: the query joins the lane
-- (at its askedAt) if it is not there yet, and takes a permit only when fewer queries are ahead of it than
-- permits are free, so a later query never overtakes an earlier one that is waiting.
--
-- KEYS[1]  {t}:sem            the tenant semaphore (leases)
-- KEYS[2]  {t}:lane           waiting queries by askedAt
-- KEYS[3]  {t}:lane:exp       when each lane entry lapses
-- KEYS[4]  {t}:lane:parked    bodies of parked entries
-- KEYS[5]  {t}:query:<id>     the query's status hash
-- KEYS[6]  {t}:tenant         the tenant's serving record (field concurrencyLimit)
-- KEYS[7]  {t}:lane:whwait    set while the warehouse keeps refusing this tenant: only the first may try;
--                              "1", or the id of the query trying the warehouse right now (out of the lane)
-- ARGV[1]  query id
-- ARGV[2]  askedAt (epoch ms): the lane order
-- ARGV[3]  lease token for the permit
-- ARGV[4]  lease TTL in ms
-- ARGV[5]  concurrency limit when the tenant record has none
-- ARGV[6]  ms the lane entry stays without another attempt
-- ARGV[7]  the delivery's chain id: the message that started its chain of `later` re-dispatches
-- ARGV[8]  "1" when this is a delivery's first attempt: it takes over a parked entry of the same query
--          (later attempts leave a parked entry parked: its delivery is about to leave again)
-- ARGV[9]  TTL in seconds for a status hash that has none
--
-- Returns {code, a, b, limit, c}:
--   1 granted:     a = lease expiry, b = queries still waiting in the lane, c = 1 when only the first in
--                  line was let through (the warehouse had refused this tenant)
--   0 wait:        a = place in line (0 = first), b = free permits
--   2 finished:    the query is already done or failed (a late duplicate)
--   3 duplicate:   another chain runs it under a live lease; a = ms that lease has left (that chain's own
--                  delivery is still unanswered, so QStash redelivers it if its runner dies)
--   4 running here: an earlier attempt of this same chain still holds a live lease (its host died or the
--                  attempt timed out at the broker); a = ms it has left

local sem, lane, lane_exp, parked, status = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
local now = now_ms()
local limit = tenant_limit(KEYS[6], ARGV[5])

local st = redis.call("HMGET", status, "status", "runner", "runnerChain")
if st[1] == "done" or st[1] == "error" then
  return { 2, 0, 0, limit }
end
reclaim(sem, now)
if st[2] then
  local live = redis.call("ZSCORE", sem, st[2])
  if live then
    local left = tonumber(live) - now
    if st[3] == ARGV[7] then
      return { 4, left, 0, limit }
    end
    return { 3, left, 0, limit }
  end
end

prune_lane(lane, lane_exp, parked, now)
redis.call("ZADD", lane, "NX", ARGV[2], id)
local is_parked = redis.call("HEXISTS", parked, id) == 1
if is_parked and ARGV[8] == "1" then
  redis.call("HDEL", parked, id)
  is_parked = false
end
if not is_parked then
  redis.call("ZADD", lane_exp, now + tonumber(ARGV[6]), id)
end

local place = redis.call("ZRANK", lane, id)
local free = limit - redis.call("ZCARD", sem)
local trier = redis.call("GET", KEYS[7])
local head_only = trier and 1 or 0
if trier and trier ~= "1" and trier ~= id then
  -- The first in line is at the warehouse right now, out of the lane: the next must not pass it there.
  free = 0
elseif free > 1 and head_only == 1 then
  -- Tenant permits are free but the warehouse is the bottleneck: the first in line tries alone, so the
  -- queries behind it neither overtake it at the warehouse nor spend attempts they cannot win.
  free = 1
end
if place >= free then
  return { 0, place, math.max(free, 0), limit }
end
local expires = grant(sem, ARGV[3], now, tonumber(ARGV[4]))
if head_only == 1 then
  redis.call("SET", KEYS[7], id, "KEEPTTL")
end
redis.call("ZREM", lane, id)
-- A parked entry keeps its mark, body and lapse until the query really runs: if the warehouse refuses it
-- now, the yield puts it back still parked, so a release can wake it. Out of the lane, the mark wakes nothing.
if not is_parked then
  redis.call("ZREM", lane_exp, id)
end
redis.call("HSET", status, "runner", ARGV[3], "runnerChain", ARGV[7])
if redis.call("TTL", status) < 0 then
  redis.call("EXPIRE", status, ARGV[9])
end
return { 1, expires, redis.call("ZCARD", lane), limit, head_only }

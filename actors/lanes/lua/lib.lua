-- Lane helpers shared by the tenant-lane scripts (prepended after the semaphore's lease helpers).
--
-- A tenant's lane is three keys under its hash tag:
--   lane         sorted set: query id -> askedAt, so ZRANK is the query's place in line (first come first served)
--   lane:exp     sorted set: query id -> when the entry lapses (Redis clock, ms) unless its delivery refreshes it;
--                a waiting delivery refreshes it on every attempt, a parked one is given a longer lapse
--   lane:parked  hash: query id -> message body, for entries whose delivery left to be dispatched again later;
--                a release publishes the body again ("wakes" it) so it comes back at once
-- An entry whose delivery vanished lapses, so a lost message cannot block its lane for good.

-- Drops lapsed entries from all three keys.
local function prune_lane(lane, lane_exp, parked, now)
  local gone = redis.call("ZRANGEBYSCORE", lane_exp, "-inf", now)
  for _, id in ipairs(gone) do
    redis.call("ZREM", lane, id)
    redis.call("HDEL", parked, id)
  end
  if #gone > 0 then
    redis.call("ZREMRANGEBYSCORE", lane_exp, "-inf", now)
  end
end

-- The tenant's concurrency limit from its serving record, else the default given by the caller.
local function tenant_limit(tenant_hash, default)
  local limit = tonumber(redis.call("HGET", tenant_hash, "concurrencyLimit") or "")
  if limit and limit >= 1 then
    return math.floor(limit)
  end
  return tonumber(default)
end

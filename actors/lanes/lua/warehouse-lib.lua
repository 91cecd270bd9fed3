-- Fair-share helpers for the global warehouse semaphore (prepended after the semaphore's lease helpers).
--
-- Leases are `<token>:<tenant>` (tokens are hex, tenant ids have no ":"), so the holders per tenant can be
-- counted from the set itself. Tenants that were refused a permit keep a claim in the waiting set (score =
-- when the claim lapses), refreshed by every refused attempt.
--
-- Fair share = ceil(limit / active tenants), active = holding or waiting. A tenant below its share may take
-- any free permit; a tenant at or above it takes one only if more permits are free than there are other
-- waiting tenants below their share. So one tenant can use the warehouse while it is alone, and gives way,
-- permit by permit as its queries finish, as soon as another tenant waits.
--
-- No tenant may hold every permit (the cap is limit - 1 when limit > 1): the last one is kept for whoever
-- comes next, so a tenant arriving beside a busy one starts at once instead of waiting for one of the busy
-- tenant's queries to end. It costs a lone tenant one permit, and only when its own limit reaches the
-- warehouse's.

local function tenant_cap(limit)
  if limit > 1 then
    return limit - 1
  end
  return limit
end

local function tenant_of(member)
  return string.match(member, "^[^:]*:(.*)$")
end

-- {held by tenant, total held, waiting tenants (list), share}
local function fair_state(sem, wait, me, limit, now)
  reclaim(sem, now)
  redis.call("ZREMRANGEBYSCORE", wait, "-inf", now)
  local held, total, seen, active = {}, 0, {}, 0
  for _, member in ipairs(redis.call("ZRANGE", sem, 0, -1)) do
    local t = tenant_of(member)
    held[t] = (held[t] or 0) + 1
    total = total + 1
    if not seen[t] then
      seen[t] = true
      active = active + 1
    end
  end
  local waiting = redis.call("ZRANGE", wait, 0, -1)
  for _, t in ipairs(waiting) do
    if not seen[t] then
      seen[t] = true
      active = active + 1
    end
  end
  if me ~= "" and not seen[me] then
    active = active + 1
  end
  local share = math.ceil(limit / math.max(active, 1))
  return held, total, waiting, share
end

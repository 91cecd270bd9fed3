-- Fair-share helpers for the global warehouse semaphore (prepended after the semaphore's lease helpers).
--
-- Leases are `<token>:<tenant>` (tokens are hex, tenant ids have no ":"), so the holders per tenant can be
-- counted from the set itself. Tenants that were refused a permit keep a claim in the waiting set (score =
-- when the claim lapses), refreshed by every refused attempt.
--
-- Fair share = ceil(limit / active tenants), active = holding or waiting. A tenant below its share may take
-- any free permit; a tenant at or above it takes one only if more permits are free than there are other
-- waiting tenants below their share. So one tenant can use the whole warehouse while it is alone, and gives
-- way, permit by permit as its queries finish, as soon as another tenant waits.

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

-- Gives a warehouse permit back and names the waiting tenant that should take the free permit: the one
-- holding the fewest permits (fair share) among those allowed another, so the releaser can wake that
-- tenant's first query.
--
-- KEYS[1]  wh:sem
-- KEYS[2]  {wh:sem}:wait
-- ARGV[1]  lease (`<token>:<tenant>`) to release, or "" to release nothing
-- ARGV[2]  limit (warehouse permits in all)
--
-- Returns {released, next}: released 1 / 0; next = a tenant id, or "" when nobody waits or nothing is free

local sem, wait = KEYS[1], KEYS[2]
local now = now_ms()
local released = 0
if ARGV[1] ~= "" then
  released = redis.call("ZREM", sem, ARGV[1])
end
local held, total, waiting = fair_state(sem, wait, "", tonumber(ARGV[2]), now)
if total >= tonumber(ARGV[2]) then
  return { released, "" }
end
local best, fewest = "", nil
local cap = tenant_cap(tonumber(ARGV[2]))
for _, t in ipairs(waiting) do
  local n = held[t] or 0
  if n < cap and (fewest == nil or n < fewest) then
    best, fewest = t, n
  end
end
return { released, best }

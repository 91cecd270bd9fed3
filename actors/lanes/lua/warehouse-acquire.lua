-- One attempt by a tenant's query to take a permit of the global warehouse semaphore, under fair share (see
-- the library above). A refused tenant records (or refreshes) its claim in the waiting set.
--
-- KEYS[1]  wh:sem             the warehouse semaphore (leases `<token>:<tenant>`)
-- KEYS[2]  {wh:sem}:wait      waiting tenants, scored by when their claim lapses
-- ARGV[1]  tenant id
-- ARGV[2]  lease token
-- ARGV[3]  limit (warehouse permits in all)
-- ARGV[4]  lease TTL in ms
-- ARGV[5]  ms a refused tenant's claim lasts
-- ARGV[6]  "1" when more of this tenant's queries wait behind this one (its claim is kept on success)
--
-- Returns {code, a, share, room}:
--   1 granted:  a = lease expiry; room = 1 when this tenant could take another permit right away (one is
--               free and it is under its cap), 0 when the warehouse is still its bottleneck
--   0 full:     a = permits this tenant holds
--   2 yield:    free permits are left to other tenants (fair share, or the last permit); a = permits this
--               tenant holds

local sem, wait, me = KEYS[1], KEYS[2], ARGV[1]
local limit = tonumber(ARGV[3])
local now = now_ms()
local held, total, waiting, share = fair_state(sem, wait, me, limit, now)
local mine = held[me] or 0
local free = limit - total

local function refuse(code)
  redis.call("ZADD", wait, now + tonumber(ARGV[5]), me)
  return { code, mine, share }
end

if free <= 0 then
  return refuse(0)
end
if mine >= tenant_cap(limit) then
  return refuse(2)
end
if mine >= share then
  local deprived = 0
  for _, t in ipairs(waiting) do
    if t ~= me and (held[t] or 0) < share then
      deprived = deprived + 1
    end
  end
  if free <= deprived then
    return refuse(2)
  end
end
local expires = grant(sem, ARGV[2] .. ":" .. me, now, tonumber(ARGV[4]))
if ARGV[6] == "1" then
  redis.call("ZADD", wait, now + tonumber(ARGV[5]), me)
else
  redis.call("ZREM", wait, me)
end
local room = 0
if free - 1 > 0 and mine + 1 < tenant_cap(limit) then
  room = 1
end
return { 1, expires, share, room }

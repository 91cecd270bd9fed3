-- Extends the leases a broker still holds while their deliveries run.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  lease length in ms
-- ARGV[2…] id, token pairs
--
-- Returns how many leases were extended (a lost lease is skipped).

local now = now_ms()
local until_ms = now + tonumber(ARGV[1])
local inflight = key("inflight")
local renewed = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call("HGET", msg_key(id), "lease") == ARGV[i + 1] then
    renewed = renewed + redis.call("ZADD", inflight, "XX", "CH", until_ms, id)
  end
end
return renewed

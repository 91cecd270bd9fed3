-- Sends DLQ entries again as new messages (fresh retry budget) and removes them from the DLQ.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[…]  dlq id, new message id pairs
--
-- Returns per pair the new message id, or false when the DLQ entry does not exist.

local now = now_ms()
local dlq_only = { dlqId = true, state = true, failedAt = true, responseStatus = true, responseHeader = true,
  responseBody = true, lastStatus = true, lastError = true }
local out = {}
for i = 1, #ARGV, 2 do
  local entry = key("dlq:" .. ARGV[i])
  local stored = redis.call("HGETALL", entry)
  if #stored == 0 then
    out[#out + 1] = false
  else
    local fields = {}
    for j = 1, #stored, 2 do
      if not dlq_only[stored[j]] then
        fields[#fields + 1] = stored[j]
        fields[#fields + 1] = stored[j + 1]
      end
    end
    insert_message(ARGV[i + 1], fields, now, now)
    redis.call("DEL", entry)
    redis.call("ZREM", key("dlq"), ARGV[i])
    out[#out + 1] = ARGV[i + 1]
  end
end
if #out > 0 then
  redis.call("PUBLISH", key("wake"), "dlq " .. now)
end
return out

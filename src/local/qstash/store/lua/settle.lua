-- Records the outcome of one delivery attempt, if the caller still holds the message's lease.
-- Delivered: the message is deleted. Retry: it waits `delay` ms holding its queue place but no
-- flow-control slot. Failed: it moves to the DLQ. Slots it gives back go to waiting messages, and the
-- callback messages the attempt produced are stored in the same step, so none is lost or sent twice.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  message id
-- ARGV[2]  lease token from the claim
-- ARGV[3]  outcome: "delivered" | "retry" | "failed"
-- ARGV[4]  retry: delay in ms (time-scaled); failed: the DLQ id
-- ARGV[5]  last response status ("" when the destination never answered)
-- ARGV[6]  last response headers as JSON
-- ARGV[7]  last response body
-- ARGV[8]  last error text ("" for none)
-- ARGV[9]  number of callback messages n, then per message: id, field count k, k field/value items
--
-- Returns {settled, promoted}: settled 0 when the lease was lost (the message was cancelled or
-- re-claimed after its lease expired); promoted counts messages that became due now.

local now = now_ms()
local id = ARGV[1]
local mk = msg_key(id)
local outcome = ARGV[3]
if redis.call("HGET", mk, "lease") ~= ARGV[2] or not redis.call("ZSCORE", key("inflight"), id) then
  return { 0, 0 }
end
redis.call("ZREM", key("inflight"), id)
local promoted = release_fc(mk, id, now)

if outcome == "retry" then
  redis.call("HINCRBY", mk, "retried", 1)
  redis.call("HSET", mk, "state", "RETRY", "notBefore", now + tonumber(ARGV[4]), "lastStatus", ARGV[5],
    "lastError", ARGV[8])
  redis.call("ZADD", key("due"), now + tonumber(ARGV[4]), id)
else
  promoted = promoted + release_queue(mk, id, now)
  redis.call("SREM", key("live"), id)
  if outcome == "failed" then
    local dlq_id = ARGV[4]
    local entry = key("dlq:" .. dlq_id)
    redis.call("RENAME", mk, entry)
    redis.call("HSET", entry, "dlqId", dlq_id, "state", "FAILED", "failedAt", now, "responseStatus", ARGV[5],
      "responseHeader", ARGV[6], "responseBody", ARGV[7], "lastStatus", ARGV[5], "lastError", ARGV[8])
    redis.call("ZADD", key("dlq"), now, dlq_id)
  else
    redis.call("DEL", mk)
  end
end

local at = 10
local callbacks = tonumber(ARGV[9])
for _ = 1, callbacks do
  local callback_id = ARGV[at]
  local count = tonumber(ARGV[at + 1])
  local fields = {}
  for i = 1, count do
    fields[i] = ARGV[at + 1 + i]
  end
  at = at + 2 + count
  insert_message(callback_id, fields, now, now)
  promoted = promoted + 1
end
return { 1, promoted }

-- Fires one schedule: stores a message from its template and moves it to its next fire time.
-- Compare-and-set on the expected fire time, so when several brokers see the same schedule due,
-- exactly one fires it.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  schedule id
-- ARGV[2]  the fire time the caller saw (epoch ms)
-- ARGV[3]  next fire time (epoch ms; -1 when the cron has none)
-- ARGV[4]  new message id
--
-- Returns 1 when fired, 0 when another broker fired it, or it was paused or deleted meanwhile.

local now = now_ms()
local schedule = key("schedule:" .. ARGV[1])
local state = redis.call("HMGET", schedule, "next", "paused", "delayMs")
if state[1] ~= ARGV[2] or state[2] == "1" then
  return 0
end
local fields = redis.call("HGETALL", key("schedule:" .. ARGV[1] .. ":template"))
fields[#fields + 1] = "scheduleId"
fields[#fields + 1] = ARGV[1]
insert_message(ARGV[4], fields, now + tonumber(state[3] or "0"), now)
redis.call("HSET", schedule, "last", ARGV[2], "lastMessageId", ARGV[4], "next", ARGV[3])
if tonumber(ARGV[3]) < 0 then
  redis.call("ZREM", key("schedules"), ARGV[1])
else
  redis.call("ZADD", key("schedules"), ARGV[3], ARGV[1])
end
redis.call("PUBLISH", key("wake"), "schedule " .. now)
return 1

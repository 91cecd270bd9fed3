-- Pauses, resumes or deletes a schedule.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  schedule id
-- ARGV[2]  action: "pause" | "resume" | "delete"
-- ARGV[3]  resume: next fire time (epoch ms; -1 when the cron has none)
--
-- Returns 1, or 0 when there is no such schedule.

local id = ARGV[1]
local schedule = key("schedule:" .. id)
if redis.call("EXISTS", schedule) == 0 then
  return 0
end
if ARGV[2] == "delete" then
  redis.call("DEL", schedule, key("schedule:" .. id .. ":template"))
  redis.call("ZREM", key("schedules"), id)
  redis.call("SREM", key("schedule-ids"), id)
elseif ARGV[2] == "pause" then
  redis.call("HSET", schedule, "paused", "1")
  redis.call("ZREM", key("schedules"), id)
else
  redis.call("HSET", schedule, "paused", "0", "next", ARGV[3])
  if tonumber(ARGV[3]) >= 0 then
    redis.call("ZADD", key("schedules"), ARGV[3], id)
    redis.call("PUBLISH", key("wake"), "schedule " .. ARGV[3])
  end
end
return 1

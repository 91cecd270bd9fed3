-- Creates or replaces a schedule: its settings, its message template and its next fire time.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  schedule id
-- ARGV[2]  first fire time (epoch ms)
-- ARGV[3]  number of schedule field/value items n, then n items, then the template's field/value items
--
-- Returns 1.

local now = now_ms()
local id = ARGV[1]
local schedule = key("schedule:" .. id)
local template = key("schedule:" .. id .. ":template")
local created = redis.call("HGET", schedule, "createdAt") or now
redis.call("DEL", schedule, template)
local count = tonumber(ARGV[3])
local settings = {}
for i = 1, count do
  settings[i] = ARGV[3 + i]
end
local fields = {}
for i = 4 + count, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call("HSET", schedule, "createdAt", created, "next", ARGV[2], "paused", "0", unpack(settings))
redis.call("HSET", template, unpack(fields))
redis.call("ZADD", key("schedules"), ARGV[2], id)
redis.call("SADD", key("schedule-ids"), id)
redis.call("PUBLISH", key("wake"), "schedule " .. ARGV[2])
return 1

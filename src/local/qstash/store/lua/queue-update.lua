-- Creates, changes, pauses, resumes or deletes a queue, then lets waiting messages take any freed slots.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  queue name
-- ARGV[2]  action: "upsert" | "pause" | "resume" | "delete"
-- ARGV[3]  upsert: parallelism
-- ARGV[4]  upsert: paused ("1" or "0")
--
-- Returns 1, or 0 when pause / resume / delete found no such queue. Deleting cancels the messages
-- waiting in the queue; those already due or in flight finish.

local now = now_ms()
local queue = ARGV[1]
local conf = key("q:" .. queue)
local action = ARGV[2]
local exists = redis.call("EXISTS", conf) == 1
if action == "upsert" then
  if not exists then
    redis.call("HSET", conf, "createdAt", now)
    redis.call("SADD", key("queues"), queue)
  end
  redis.call("HSET", conf, "parallelism", ARGV[3], "paused", ARGV[4], "updatedAt", now)
elseif not exists then
  return 0
elseif action == "delete" then
  for _, id in ipairs(redis.call("LRANGE", key("q:" .. queue .. ":wait"), 0, -1)) do
    remove_message(id, now)
  end
  redis.call("DEL", conf, key("q:" .. queue .. ":wait"))
  redis.call("SREM", key("queues"), queue)
  return 1
else
  redis.call("HSET", conf, "paused", action == "pause" and "1" or "0", "updatedAt", now)
end
if promote_queue(queue, now) > 0 then
  redis.call("PUBLISH", key("wake"), "queue " .. now)
end
return 1

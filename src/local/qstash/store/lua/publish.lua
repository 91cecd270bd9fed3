-- Accepts one message: deduplicates, stores it, makes it due, and tells the other brokers.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[1]  message id
-- ARGV[2]  deduplication id, already hashed for content-based dedup ("" for none)
-- ARGV[3]  delay in ms, already time-scaled ("" for none)
-- ARGV[4]  not-before, epoch ms ("" for none; wins over the delay)
-- ARGV[5]  time scale applied to the not-before distance
-- ARGV[6]  publishing broker's id, echoed in the wake-up notice so it can skip its own
-- ARGV[7…] message field/value pairs
--
-- Returns {1, id, due_at, now} when stored, {0, original_id} for a duplicate within 10 minutes.

local now = now_ms()
local id = ARGV[1]
if ARGV[2] ~= "" then
  local dedup = key("dedup:" .. ARGV[2])
  local original = redis.call("GET", dedup)
  if original then
    return { 0, original }
  end
  redis.call("SET", dedup, id, "PX", 600000)
end

local due_at = now
if ARGV[4] ~= "" then
  local distance = tonumber(ARGV[4]) - now
  if distance > 0 then
    due_at = now + math.floor(distance * tonumber(ARGV[5]))
  end
elseif ARGV[3] ~= "" then
  due_at = now + tonumber(ARGV[3])
end

local fields = {}
for i = 7, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
insert_message(id, fields, due_at, now)
-- Under load one notice every few ms is enough for the other brokers to come and claim; a delayed
-- message always announces its due time.
if due_at > now or redis.call("SET", key("wake-recent"), "1", "PX", 5, "NX") then
  redis.call("PUBLISH", key("wake"), ARGV[6] .. " " .. due_at)
end
return { 1, id, due_at, now }

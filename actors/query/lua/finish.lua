-- Records a query's outcome in one step, so the cache, the status and the completion event never disagree:
-- the result goes to the cache (unless the cache already holds an answer for a newer data version), the
-- status becomes done or error, the completion event is appended, the single-flight key is dropped if it
-- still names this query, and any lane remnant of the query is removed. A second finish changes nothing.
--
-- KEYS[1]  {t}:cache:<hash>
-- KEYS[2]  {t}:done              completion stream
-- KEYS[3]  {t}:query:<id>        status hash
-- KEYS[4]  {t}:inflight:<hash>
-- KEYS[5]  {t}:lane
-- KEYS[6]  {t}:lane:exp
-- KEYS[7]  {t}:lane:parked
-- ARGV[1]  query id
-- ARGV[2]  "done" | "error"
-- ARGV[3]  done: the CachedResult JSON, starting with {"dataVersion":<n>,
-- ARGV[4]  the data version the result was computed for
-- ARGV[5]  cache TTL in seconds
-- ARGV[6]  done: row count; error: the message safe to show the tenant
-- ARGV[7]  completion stream length to keep (approximate)
-- ARGV[8]  status hash TTL in seconds, if it has none
--
-- Returns {recorded, cached, event id}: recorded 1, or 0 when the query was already done or failed (nothing
-- written); cached 1 written, 0 kept a newer data version's entry, -1 not a result (error)

local cache, stream, status, inflight = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, outcome = ARGV[1], ARGV[2]
local current = redis.call("HGET", status, "status")
if current == "done" or current == "error" then
  return { 0, 0, "" }
end
local now = now_ms()

local cached = -1
if outcome == "done" then
  cached = 1
  local existing = redis.call("GET", cache)
  if existing then
    -- Entries written here start with their data version; decode in full only if one does not.
    local version = tonumber(string.match(existing, '^{"dataVersion":(%d+)'))
    if version == nil then
      local ok, decoded = pcall(cjson.decode, existing)
      if ok and type(decoded) == "table" then
        version = tonumber(decoded.dataVersion)
      end
    end
    if version ~= nil and version > tonumber(ARGV[4]) then
      cached = 0
    end
  end
  if cached == 1 then
    redis.call("SET", cache, ARGV[3], "EX", ARGV[5])
  end
  redis.call("HSET", status, "status", "done", "finishedAt", now, "rowCount", ARGV[6])
else
  redis.call("HSET", status, "status", "error", "finishedAt", now, "error", ARGV[6])
end
if redis.call("TTL", status) < 0 then
  redis.call("EXPIRE", status, ARGV[8])
end

local event
if outcome == "done" then
  event = redis.call("XADD", stream, "MAXLEN", "~", ARGV[7], "*", "queryId", id, "status", "done", "rowCount", ARGV[6])
else
  event = redis.call("XADD", stream, "MAXLEN", "~", ARGV[7], "*", "queryId", id, "status", "error", "error", ARGV[6])
end

if redis.call("GET", inflight) == id then
  redis.call("DEL", inflight)
end
redis.call("ZREM", KEYS[5], id)
redis.call("ZREM", KEYS[6], id)
redis.call("HDEL", KEYS[7], id)
return { 1, cached, event }

-- Parks a waiting query: its delivery is about to leave (the actor answers "later"), so the lane keeps its
-- place and its body, and the next release that could let it run publishes the body again at once.
--
-- KEYS[1]  {t}:sem
-- KEYS[2]  {t}:lane
-- KEYS[3]  {t}:lane:exp
-- KEYS[4]  {t}:lane:parked
-- KEYS[5]  {t}:query:<id>
-- ARGV[1]  query id
-- ARGV[2]  askedAt
-- ARGV[3]  message body
-- ARGV[4]  ms the parked entry stays (a little longer than the later re-dispatch's delay)
--
-- Returns {code, place}: 1 parked at `place`; 2 finished (done or failed); 3 someone runs it under a live lease

local sem, lane, lane_exp, parked, status = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms()
local st = redis.call("HMGET", status, "status", "runner")
if st[1] == "done" or st[1] == "error" then
  return { 2, 0 }
end
if st[2] and tonumber(redis.call("ZSCORE", sem, st[2]) or "0") > now then
  return { 3, 0 }
end
redis.call("ZADD", lane, "NX", ARGV[2], ARGV[1])
redis.call("ZADD", lane_exp, now + tonumber(ARGV[4]), ARGV[1])
redis.call("HSET", parked, ARGV[1], ARGV[3])
return { 1, redis.call("ZRANK", lane, ARGV[1]) }

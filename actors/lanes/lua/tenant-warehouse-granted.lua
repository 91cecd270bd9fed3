-- The first in line of a tenant the warehouse had refused got a warehouse permit. With room for more, every
-- query in the lane may try again; without, the next in line becomes the one that tries alone.
--
-- KEYS[1]  {t}:lane:whwait
-- ARGV[1]  query id
-- ARGV[2]  "1" when the warehouse has room for another of this tenant's queries
--
-- Returns 1 when the lane's mode changed, else 0

if ARGV[2] == "1" then
  return redis.call("DEL", KEYS[1])
end
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("SET", KEYS[1], "1", "KEEPTTL")
  return 1
end
return 0

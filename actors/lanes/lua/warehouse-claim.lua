-- Keeps a tenant's claim in the warehouse waiting set for a while: used when a query refused by the warehouse
-- parks, so releases keep choosing its tenant while no delivery of it is there to refresh the claim.
--
-- KEYS[1]  {wh:sem}:wait
-- ARGV[1]  tenant id
-- ARGV[2]  ms the claim lasts (never shortened)
--
-- Returns 1

redis.call("ZADD", KEYS[1], "GT", now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1

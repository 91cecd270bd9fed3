-- Gives a permit back. Only the token's own lease is removed, so a caller that does not own a lease
-- cannot free anyone else's, and releasing twice is harmless.
--
-- KEYS[1]  the semaphore (sorted set of leases)
-- ARGV[1]  lease token
--
-- Returns 1 released, 0 not held (already released or reclaimed)

return redis.call("ZREM", KEYS[1], ARGV[1])

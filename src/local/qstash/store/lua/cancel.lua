-- Cancels messages: removes each from wherever it waits, gives back its slots, deletes it.
-- An attempt already under way finishes, but its outcome is then discarded.
--
-- KEYS[1]  key prefix (hash tag)
-- ARGV[…]  message ids
--
-- Returns how many messages existed and were cancelled.

local now = now_ms()
local cancelled = 0
for _, id in ipairs(ARGV) do
  cancelled = cancelled + remove_message(id, now)
end
return cancelled

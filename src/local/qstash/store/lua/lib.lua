-- Shared by every broker script (prepended to each before loading).
--
-- KEYS[1] is always the broker's key prefix, a Redis Cluster hash tag such as "{qstash}".
-- Every key a script touches is derived from it, so all of them live on that one slot.
--
-- Message hash fields the scripts read: queue, qslot (1 = holds a queue slot), fcKey,
-- fcslot (1 = holds a flow-control slot), lease (attempt token), state.

local PREFIX = KEYS[1]

local function key(suffix)
  return PREFIX .. ":" .. suffix
end

local function msg_key(id)
  return key("msg:" .. id)
end

-- Milliseconds from the Redis clock, shared by every broker on this Redis.
local function now_ms()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Lets waiting queue messages take free slots, oldest first. Returns how many became due.
local function promote_queue(queue, now)
  local conf = key("q:" .. queue)
  local settings = redis.call("HMGET", conf, "parallelism", "paused")
  if settings[2] == "1" then
    return 0
  end
  local parallelism = tonumber(settings[1] or "1")
  local active = key("q:" .. queue .. ":active")
  local wait = key("q:" .. queue .. ":wait")
  local promoted = 0
  while redis.call("SCARD", active) < parallelism do
    local id = redis.call("LPOP", wait)
    if not id then
      break
    end
    local mk = msg_key(id)
    if redis.call("EXISTS", mk) == 1 then
      redis.call("SADD", active, id)
      redis.call("HSET", mk, "qslot", "1", "state", "CREATED")
      redis.call("ZADD", key("due"), now, id)
      promoted = promoted + 1
    end
  end
  return promoted
end

-- Takes a flow-control slot for message `id` when the key's parallelism and rate allow a start now.
-- When the rate window is full, records when it ends so waiting messages are promoted then.
local function fc_take(fc_key, id, now)
  local settings = redis.call("HMGET", key("fc:" .. fc_key), "parallelism", "rate", "period")
  local parallelism = tonumber(settings[1])
  local rate = tonumber(settings[2])
  local period = tonumber(settings[3] or "1000")
  local active = key("fc:" .. fc_key .. ":active")
  if parallelism and redis.call("SCARD", active) >= parallelism then
    return false
  end
  if rate then
    local window = key("fc:" .. fc_key .. ":window")
    local used = tonumber(redis.call("GET", window) or "0")
    if used >= rate then
      local left = redis.call("PTTL", window)
      if left < 0 then
        left = 0
      end
      redis.call("ZADD", key("fcwake"), now + left, fc_key)
      return false
    end
    if used == 0 then
      redis.call("SET", window, "1", "PX", period)
    else
      redis.call("INCR", window)
    end
  end
  redis.call("SADD", active, id)
  return true
end

-- Lets waiting messages of a flow-control key start while its limits allow. Returns how many became due.
local function promote_fc(fc_key, now)
  local wait = key("fc:" .. fc_key .. ":wait")
  local promoted = 0
  while true do
    local id = redis.call("LINDEX", wait, 0)
    if not id then
      break
    end
    local mk = msg_key(id)
    if redis.call("EXISTS", mk) == 0 then
      redis.call("LPOP", wait)
    elseif fc_take(fc_key, id, now) then
      redis.call("LPOP", wait)
      redis.call("HSET", mk, "fcslot", "1", "state", "CREATED")
      redis.call("ZADD", key("due"), now, id)
      promoted = promoted + 1
    else
      break
    end
  end
  return promoted
end

-- Gives back the flow-control slot a message holds, letting the next waiter start.
local function release_fc(mk, id, now)
  local f = redis.call("HMGET", mk, "fcKey", "fcslot")
  if f[1] and f[2] == "1" then
    redis.call("SREM", key("fc:" .. f[1] .. ":active"), id)
    redis.call("HSET", mk, "fcslot", "0")
    return promote_fc(f[1], now)
  end
  return 0
end

-- Gives back the queue slot a message holds (it is finished), letting the next in line go.
local function release_queue(mk, id, now)
  local f = redis.call("HMGET", mk, "queue", "qslot")
  if f[1] and f[2] == "1" then
    redis.call("SREM", key("q:" .. f[1] .. ":active"), id)
    redis.call("HSET", mk, "qslot", "0")
    return promote_queue(f[1], now)
  end
  return 0
end

-- Creates a queue with QStash's defaults (parallelism 1) unless it exists.
local function ensure_queue(queue, now)
  local conf = key("q:" .. queue)
  if redis.call("HSETNX", conf, "parallelism", "1") == 1 then
    redis.call("HSET", conf, "paused", "0", "createdAt", now, "updatedAt", now)
    redis.call("SADD", key("queues"), queue)
  end
end

-- Stores a new message from a flat field/value list and makes it due at `due_at`
-- (an undelayed queue message joins the back of its queue instead).
local function insert_message(id, fields, due_at, now)
  local mk = msg_key(id)
  redis.call("HSET", mk, unpack(fields))
  redis.call("HSET", mk, "messageId", id, "createdAt", now, "notBefore", due_at, "retried", "0", "lease", "0",
    "qslot", "0", "fcslot", "0")
  redis.call("SADD", key("live"), id)
  local f = redis.call("HMGET", mk, "queue", "fcKey", "fcParallelism", "fcRate", "fcPeriod")
  if f[2] then
    -- The latest publish for a key sets its limits, as QStash does.
    local conf = key("fc:" .. f[2])
    redis.call("DEL", conf)
    if f[3] then redis.call("HSET", conf, "parallelism", f[3]) end
    if f[4] then redis.call("HSET", conf, "rate", f[4], "period", f[5] or "1000") end
  end
  if f[1] then
    ensure_queue(f[1], now)
    if due_at <= now then
      redis.call("RPUSH", key("q:" .. f[1] .. ":wait"), id)
      redis.call("HSET", mk, "state", "CREATED")
      promote_queue(f[1], now)
      return
    end
  end
  redis.call("HSET", mk, "state", "CREATED")
  redis.call("ZADD", key("due"), due_at, id)
end

-- Removes a message from wherever it waits, gives back its slots, and deletes it.
local function remove_message(id, now)
  local mk = msg_key(id)
  if redis.call("EXISTS", mk) == 0 then
    return 0
  end
  local f = redis.call("HMGET", mk, "queue", "fcKey")
  redis.call("ZREM", key("due"), id)
  redis.call("ZREM", key("inflight"), id)
  if f[1] then
    redis.call("LREM", key("q:" .. f[1] .. ":wait"), 0, id)
  end
  if f[2] then
    redis.call("LREM", key("fc:" .. f[2] .. ":wait"), 0, id)
  end
  release_fc(mk, id, now)
  release_queue(mk, id, now)
  redis.call("DEL", mk)
  redis.call("SREM", key("live"), id)
  return 1
end

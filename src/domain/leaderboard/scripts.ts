// The leaderboard's Redis scripts. Lua source lives here as text (the edge runs on Workers, which cannot read
// files), each with a header naming KEYS, ARGV and the reply. Replies that carry ad ids are JSON text
// (cjson): the Upstash client parses JSON-looking strings in ordinary replies, which would turn an ad named
// "123" into a number or one named "[1]" into an array; inside one JSON document every id stays a string.

/**
 * apply: adds one ingest attempt's increments to the minute sets, once, and bumps the data version. Each set
 * touched also gets its top-100 snapshot rewritten (JSON text), so a one-minute top list is one GET away.
 * KEYS[1]   the tenant's data version ({t:<id>}:ver), always incremented
 * KEYS[2]   the attempt's marker ({t:<id>}:topmark:<attemptId>)
 * KEYS[3…]  pairs: a sorted set per (metric, minute), then its snapshot key
 * ARGV[1]   the marker's expiry (unix seconds): the latest expiry of the sets, so while any set the attempt
 *           touched can exist, the marker does too
 * ARGV[2]   how many entries a snapshot keeps
 * ARGV[3…]  per set, in KEYS order: its expiry (unix seconds), the number n of pairs, then n (ad, increment)
 * Returns   {version, applied}: applied is 1 when the increments were added now, 0 when the marker says an
 *           earlier call already added them.
 */
export const APPLY_SCRIPT = `
local version = redis.call('INCR', KEYS[1])
if #KEYS < 2 then return {version, 0} end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EXAT', ARGV[1]) then return {version, 0} end
local keep = tonumber(ARGV[2])
local a = 3
for k = 3, #KEYS, 2 do
  local expireAt = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, n do
    redis.call('ZINCRBY', KEYS[k], ARGV[a + 1], ARGV[a])
    a = a + 2
  end
  redis.call('EXPIREAT', KEYS[k], expireAt)
  local top = redis.call('ZRANGE', KEYS[k], 0, keep - 1, 'REV', 'WITHSCORES')
  redis.call('SET', KEYS[k + 1], cjson.encode(top), 'EXAT', expireAt)
end
return {version, 1}
`;

/**
 * top: the highest-scored ads over the union of some minute sets.
 * KEYS[1]   a scratch key in the tenant's slot, deleted before the script returns
 * KEYS[2…]  the minute sets of the window (missing ones count as empty)
 * ARGV[1]   how many ads to return
 * Returns   JSON text: [ad, score, ad, score, …], highest first; ties in descending ad order (Redis REV order).
 */
export const TOP_SCRIPT = `
local limit = tonumber(ARGV[1])
local sets = {}
for k = 2, #KEYS do sets[#sets + 1] = KEYS[k] end
local out
if #sets == 1 then
  out = redis.call('ZRANGE', sets[1], 0, limit - 1, 'REV', 'WITHSCORES')
else
  redis.call('ZUNIONSTORE', KEYS[1], #sets, unpack(sets))
  out = redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'REV', 'WITHSCORES')
  redis.call('DEL', KEYS[1])
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;

/**
 * scores: one ad's score in each of some minute sets.
 * KEYS[1…]  the minute sets
 * ARGV[1]   the ad
 * Returns   JSON text: one score per set, in KEYS order ("0" where the set or the ad is missing).
 */
export const SCORES_SCRIPT = `
local out = {}
for k = 1, #KEYS do out[k] = redis.call('ZSCORE', KEYS[k], ARGV[1]) or '0' end
return cjson.encode(out)
`;

/**
 * dump: every member and score of some sets, for reconciliation.
 * KEYS[1…]  the sets
 * Returns   JSON text: one entry per set, in KEYS order, each [ad, score, ad, score, …]; cjson writes an
 *           empty list as {}, which the reader takes for [].
 */
export const DUMP_SCRIPT = `
local out = {}
for k = 1, #KEYS do
  out[k] = redis.call('ZRANGE', KEYS[k], 0, -1, 'WITHSCORES')
end
return cjson.encode(out)
`;

/**
 * snapshots: the snapshot text of some sets, for reconciliation.
 * KEYS[1…]  snapshot keys
 * Returns   JSON text: one string per key, in KEYS order (the snapshot's own JSON text, "" when missing).
 */
export const SNAPSHOTS_SCRIPT = `
local out = {}
for k = 1, #KEYS do out[k] = redis.call('GET', KEYS[k]) or '' end
return cjson.encode(out)
`;

/**
 * replace: rewrites some sets whole, and their snapshots, for `reconcile --repair`.
 * KEYS[1…]  pairs: a sorted set, then its snapshot key
 * ARGV[1]   how many entries a snapshot keeps
 * ARGV[2…]  per set, in KEYS order: its expiry (unix seconds), n, then n (ad, score) pairs; n = 0 deletes it
 * Returns   the number of sets written.
 */
export const REPLACE_SCRIPT = `
local keep = tonumber(ARGV[1])
local a = 2
for k = 1, #KEYS, 2 do
  local expireAt = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  redis.call('DEL', KEYS[k], KEYS[k + 1])
  for i = 1, n do
    redis.call('ZADD', KEYS[k], ARGV[a + 1], ARGV[a])
    a = a + 2
  end
  if n > 0 then
    redis.call('EXPIREAT', KEYS[k], expireAt)
    local top = redis.call('ZRANGE', KEYS[k], 0, keep - 1, 'REV', 'WITHSCORES')
    redis.call('SET', KEYS[k + 1], cjson.encode(top), 'EXAT', expireAt)
  end
end
return #KEYS / 2
`;

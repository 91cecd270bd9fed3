// The import status record's Redis scripts (see status.ts for who writes which fields). Each touches one
// tenant's keys only, so it stays on that tenant's Redis Cluster slot.

/**
 * begin: an upload starts (or a retried upload of the same id starts again).
 * KEYS[1]  the import's record hash
 * KEYS[2]  the tenant's imports index (sorted set by creation time)
 * ARGV[1]  import id   ARGV[2] now (ms)   ARGV[3] TTL (s)   ARGV[4] file name ("" for none)
 * ARGV[5]  max reject ratio   ARGV[6] ignored columns (JSON)   ARGV[7] index entries older than this (ms) go
 * Returns  {final, createdAt}: final 1 when the import has already ended (nothing is changed then); createdAt
 *          is the first attempt's, kept across retried uploads.
 */
export const BEGIN_UPLOAD = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'completed_with_errors' or status == 'failed' then
  return {1, tonumber(redis.call('HGET', KEYS[1], 'createdAt') or '0')}
end
redis.call('HSETNX', KEYS[1], 'createdAt', ARGV[2])
local created = redis.call('HGET', KEYS[1], 'createdAt')
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'upload', 'receiving', 'lastSeenAt', ARGV[2], 'fileName', ARGV[4],
  'maxRejectRatio', ARGV[5], 'ignoredColumns', ARGV[6], 'bytesReceived', '0', 'rowsRead', '0',
  'chunksPublished', '0')
redis.call('HDEL', KEYS[1], 'uploadError', 'receivedAt', 'chunksTotal', 'rowsTotal')
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', created, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {0, tonumber(created)}
`;

/**
 * update: the edge's upload fields (progress, then the totals), unless the import has already ended.
 * KEYS[1]  the import's record hash
 * ARGV[1]  TTL (s), then field / value pairs
 * Returns  1 when written, 0 when the record is gone or final.
 */
export const UPDATE_UPLOAD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' or status == 'completed_with_errors' or status == 'failed' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * project: the import actor's copy of the imports row, written after each commit, and the row errors that
 * commit stored.
 * KEYS[1]  the import's record hash
 * KEYS[2]  the import's errors (sorted set, score = line)
 * ARGV[1]  rev of the copy (grows with every change of the row)   ARGV[2] TTL (s)
 * ARGV[3]  n, then n field / value pairs, then (line, JSON error) pairs
 * Returns  1 when the copy was written, 0 when the record already held a newer one.
 */
export const PROJECT_IMPORT = `
local n = tonumber(ARGV[3])
local applied = 0
if tonumber(ARGV[1]) >= tonumber(redis.call('HGET', KEYS[1], 'rev') or '-1') then
  if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n)) end
  redis.call('HSET', KEYS[1], 'rev', ARGV[1])
  applied = 1
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if #ARGV > 3 + 2 * n then
  redis.call('ZADD', KEYS[2], unpack(ARGV, 4 + 2 * n))
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return applied
`;

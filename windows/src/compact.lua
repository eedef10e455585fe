-- Replaces a metric's window log by its compaction, unless another writer
-- compacted it since it was read; keeps whatever was appended since.
-- KEYS[1] full-resolution log (string of 16-byte points)
-- KEYS[2] recorded rolled-up buckets (ZSET score = bucket, member = "bucket:mean")
-- KEYS[3] the log's compaction generation (a counter)
-- ARGV[1] generation the log was read at, ARGV[2] its length then (bytes),
-- ARGV[3] the compacted log, ARGV[4] drop recorded buckets at or before this,
-- then bucket, member pairs to record.
-- Returns 1 when replaced, 0 when it lost a race (the next fold retries).
local gen = redis.call('GET', KEYS[3]) or '0'
if gen ~= ARGV[1] then return 0 end
local read = tonumber(ARGV[2])
local len = redis.call('STRLEN', KEYS[1])
if len < read then return 0 end
local tail = ''
if len > read then tail = redis.call('GETRANGE', KEYS[1], read, len - 1) end
redis.call('SET', KEYS[1], ARGV[3] .. tail)
redis.call('INCR', KEYS[3])
for i = 5, #ARGV, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[i], ARGV[i])
  redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
return 1

-- Folds one metric's datapoints into its windows, atomically.
-- KEYS[1] full-resolution window (ZSET score = ts, member = "ts:value")
-- KEYS[2] rolled-up window (ZSET score = bucket start, member = "start:mean")
-- ARGV: full_duration, grace, resolution, rollup_duration, then ts, member pairs.
-- Returns the number of new points (a point folded twice is not new).
local fd = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local res = tonumber(ARGV[3])
local rd = tonumber(ARGV[4])

local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local newest = nil
if #last > 0 then newest = tonumber(last[2]) end

local added = 0
local oldest = nil
local batch_newest = nil
local buckets = {}
for i = 5, #ARGV, 2 do
  local ts = tonumber(ARGV[i])
  -- Later than what the window already forgot: fold it.
  if newest == nil or ts > newest - fd - grace then
    added = added + redis.call('ZADD', KEYS[1], ts, ARGV[i + 1])
    buckets[ts - (ts % res)] = true
  end
  if oldest == nil or ts < oldest then oldest = ts end
  if batch_newest == nil or ts > batch_newest then batch_newest = ts end
end
if oldest == nil then return 0 end
if newest == nil or batch_newest > newest then newest = batch_newest end

-- Keep everything any point of this batch needs, so that folding the same
-- batch again after a crash sees the same windows.
local cutoff = math.min(oldest, newest) - fd - grace
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)

-- Each touched bucket's mean, from the full window. A timestamp seen with
-- several values counts once, with its smallest value (as the reader keeps).
for b, _ in pairs(buckets) do
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], b, '(' .. (b + res))
  local by_ts = {}
  for _, m in ipairs(members) do
    local sep = string.find(m, ':', 1, true)
    local ts = string.sub(m, 1, sep - 1)
    local v = tonumber(string.sub(m, sep + 1))
    if by_ts[ts] == nil or v < by_ts[ts] then by_ts[ts] = v end
  end
  local sum, count = 0, 0
  for _, v in pairs(by_ts) do
    sum = sum + v
    count = count + 1
  end
  if count > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], b, b)
    redis.call('ZADD', KEYS[2], b, string.format('%d:%.17g', b, sum / count))
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', newest - rd)
return added

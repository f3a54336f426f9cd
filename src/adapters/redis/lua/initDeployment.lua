-- initDeployment.lua: creates a deployment in one atomic step
-- (`DeploymentStore.initDeployment`, wire-v1 §7b). Called by
-- redisDeployment.ts `initDeployment`; the reply codes are conflictCodes.ts
-- `REPLY_CODES.initDeployment`.
--
-- Input
--   KEYS[1] deployment: the deployment marker
--   KEYS[2] planMain: the main lane's plan stream
--   KEYS[3] planManual: the manual lane's plan stream
--   KEYS[4] state: the trading state
--   KEYS[5] stateLog: the trading-state log stream
--   ARGV[1] id: the new deployment id
--   ARGV[2] replace: "1" to replace an existing marker, "0" not to
--   ARGV[3] group: the consumer group to create on both plan streams
--   ARGV[4] state: the trading state the deployment starts in
--   ARGV[5] who: who creates it, for the state log
--   ARGV[6] at: the time, epoch milliseconds, for the state log
--
-- Output
--   {code, id}, one of these codes:
--   0 exists: a marker exists and ARGV[2] is not "1"; id is the existing marker's; nothing written
--   1 created: the group on both plan streams from id 0 (MKSTREAM; an
--     existing group is kept), the state and its log entry, and the marker,
--     last; id is the new marker's
--
-- Errors (nothing written)
--   error 'ERR intentgate init: ' a plan key holds something other than a stream
--   XGROUP CREATE's own error, other than BUSYGROUP, passed on

local EXISTS = 0 -- reply
local CREATED = 1 -- reply

local cur = redis.call('GET', KEYS[1])
if cur and ARGV[2] ~= '1' then return {EXISTS, cur} end
for s = 2, 3 do
  local t = redis.call('TYPE', KEYS[s]).ok
  if t ~= 'stream' and t ~= 'none' then
    return redis.error_reply('ERR intentgate init: ' .. KEYS[s] .. ' is a ' .. t .. ', not a stream')
  end
end
for s = 2, 3 do
  local ok = redis.pcall('XGROUP', 'CREATE', KEYS[s], ARGV[3], '0', 'MKSTREAM')
  if type(ok) == 'table' and ok.err and not string.find(ok.err, 'BUSYGROUP', 1, true) then
    return redis.error_reply(ok.err)
  end
end
redis.call('SET', KEYS[4], ARGV[4])
redis.call('XADD', KEYS[5], '*', 'state', ARGV[4], 'who', ARGV[5], 'at', ARGV[6])
redis.call('SET', KEYS[1], ARGV[1])
return {CREATED, ARGV[1]}

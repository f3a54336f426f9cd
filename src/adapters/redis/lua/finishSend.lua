-- finishSend.lua: stage 2 of a live order (stage 1 is commit.lua's `S`
-- records; docs/architecture.md "Live orders"), one atomic step. Called by
-- redisLedger.ts `finishSend`; the reply codes are conflictCodes.ts
-- `REPLY_CODES.finishSend`.
--
-- Input
--   KEYS[1] planStream: the plan stream of the entry's lane
--   KEYS[2] result: the result stream
--   KEYS[3] sends: hash `<lane>:<stream id>` -> send record JSON
--   KEYS[4] unknowns: hash `<lane>:<stream id>` -> send record JSON of an open UNKNOWN
--   KEYS[5] deployment: the deployment marker (wire-v1 §7b)
--   KEYS[6] orders: hash working order key -> its `encodeWorkingOrder` text (wire-v1 §4a)
--   KEYS[7] positions: hash position field -> canonical decimal text
--   ARGV[1] group: the consumer group on both plan streams
--   ARGV[2] streamId: the entry's stream id
--   ARGV[3] field: the entry's field in sends and unknowns, `<lane>:<stream id>`
--   ARGV[4] result: the result JSON to append
--   ARGV[5] unknown: the send record JSON to keep as an open UNKNOWN, or "" for a final result
--   ARGV[6] deployment: the deployment id the executor is bound to
--   ARGV[7] orderKey: the working order the result leaves (a LIMIT order resting), or ""
--   ARGV[8] orderText: its text, stored under orderKey with the result
--   ARGV[9] posField: the position the order's fill moves (its live book), or ""
--   ARGV[10] posExpected: the text the position must still be ("0" when flat)
--   ARGV[11] posValue: the text it becomes ("0" removes it)
--
-- Output
--   The appended result entry's id (a string) when committed: the result
--   appended, the entry acknowledged, its send record deleted, and the open
--   UNKNOWN written when ARGV[5] is not "", the working order stored when
--   ARGV[7] is not "", the position set when ARGV[9] is not "". Else one of
--   these codes:
--   -1 lostDeployment: the marker is not the bound id; nothing written
--   0 duplicate: the entry is not pending in the group (it has its result); nothing written
--   -2 position: the position is not the expected text; nothing written

local LOST_DEPLOYMENT = -1 -- reply
local DUPLICATE = 0 -- reply
local POSITION = -2 -- reply

if redis.call('GET', KEYS[5]) ~= ARGV[6] then return LOST_DEPLOYMENT end
local r = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(r) ~= 'table' or r.err or #r == 0 then return DUPLICATE end
if ARGV[9] ~= '' and (redis.call('HGET', KEYS[7], ARGV[9]) or '0') ~= ARGV[10] then return POSITION end
local id = redis.call('XADD', KEYS[2], '*', 'result', ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], r[1][1])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[4], ARGV[3], ARGV[5]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[6], ARGV[7], ARGV[8]) end
if ARGV[9] ~= '' then
  if ARGV[11] == '0' then redis.call('HDEL', KEYS[7], ARGV[9]) else redis.call('HSET', KEYS[7], ARGV[9], ARGV[11]) end
end
return id

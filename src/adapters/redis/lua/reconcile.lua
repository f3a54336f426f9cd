-- reconcile.lua: the reconciled follow-up of an UNKNOWN result, once per
-- entry (docs/architecture.md "Live orders"). Deleting the open UNKNOWN in
-- the same script as the append is what makes the follow-up once-only.
-- Called by redisLedger.ts `reconcile`; the reply codes are conflictCodes.ts
-- `REPLY_CODES.reconcile`.
--
-- Input
--   KEYS[1] result: the result stream
--   KEYS[2] unknowns: hash `<lane>:<stream id>` -> send record JSON of an open UNKNOWN
--   KEYS[3] deployment: the deployment marker (wire-v1 §7b)
--   KEYS[4] orders: hash working order key -> its `encodeWorkingOrder` text (wire-v1 §4a)
--   KEYS[5] positions: hash position field -> canonical decimal text
--   ARGV[1] field: the entry's field in unknowns, `<lane>:<stream id>`
--   ARGV[2] result: the result JSON to append (it carries `reconciled: true`)
--   ARGV[3] deployment: the deployment id the executor is bound to
--   ARGV[4] orderKey: the working order the result leaves (a LIMIT order resting), or ""
--   ARGV[5] orderText: its text, stored under orderKey with the result
--   ARGV[6] posField: the position the order's fill moves (its live book), or ""
--   ARGV[7] posExpected: the text the position must still be ("0" when flat)
--   ARGV[8] posValue: the text it becomes ("0" removes it)
--
-- Output
--   The appended result entry's id (a string) when committed: the result
--   appended, the open UNKNOWN deleted, and the working order stored when
--   ARGV[4] is not "", the position set when ARGV[6] is not "". Else one of
--   these codes:
--   -1 lostDeployment: the marker is not the bound id; nothing written
--   0 duplicate: the entry has no open UNKNOWN (already reconciled); nothing written
--   -2 position: the position is not the expected text; nothing written

local LOST_DEPLOYMENT = -1 -- reply
local DUPLICATE = 0 -- reply
local POSITION = -2 -- reply

if redis.call('GET', KEYS[3]) ~= ARGV[3] then return LOST_DEPLOYMENT end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return DUPLICATE end
if ARGV[6] ~= '' and (redis.call('HGET', KEYS[5], ARGV[6]) or '0') ~= ARGV[7] then return POSITION end
local id = redis.call('XADD', KEYS[1], '*', 'result', ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[4], ARGV[4], ARGV[5]) end
if ARGV[6] ~= '' then
  if ARGV[8] == '0' then redis.call('HDEL', KEYS[5], ARGV[6]) else redis.call('HSET', KEYS[5], ARGV[6], ARGV[8]) end
end
return id

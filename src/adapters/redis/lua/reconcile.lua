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
--   ARGV[9] booksPrefix: how every account's books key begins (`<prefix>books:`)
--
-- Books (lua/lib/books.lua, prepended): the open UNKNOWN it deletes and the
-- working order and position it writes are written to their account's
-- books too, in the same step.
--
-- Output
--   The appended result entry's id (a string) when committed: the result
--   appended, the open UNKNOWN deleted, and the working order stored when
--   ARGV[4] is not "", the position set when ARGV[6] is not "". Else one of
--   these codes:
--   -1 lostDeployment: the marker is not the bound id; nothing written
--   0 duplicate: the entry has no open UNKNOWN (already reconciled); nothing written
--   -2 position: the position is not the expected text; nothing written
--
-- Errors (nothing written)
--   error 'ERR intentgate reconcile: books: ' the open UNKNOWN, working order
--     or position field it writes names no account
--   error 'ERR intentgate reconcile: books: ' the books' sequence, or the
--     open-order count of books it writes, is not a count (lua/lib/books.lua)

local LOST_DEPLOYMENT = -1 -- reply
local DUPLICATE = 0 -- reply
local POSITION = -2 -- reply

local call, K, A = redis.call, KEYS, ARGV
if call('GET', K[3]) ~= A[3] then return LOST_DEPLOYMENT end
local open = call('HGET', K[2], A[1])
if not open then return DUPLICATE end
if A[6] ~= '' and (call('HGET', K[5], A[6]) or '0') ~= A[7] then return POSITION end
-- the books the writes below change, known before the first write
local changes = Books.changes()
local unnamed = Books.putEntry(changes, 'u:' .. A[1], open, false)
if not unnamed and A[4] ~= '' then
  unnamed = Books.putEntry(changes, 'w:' .. A[4], call('HGET', K[4], A[4]), A[5])
end
if not unnamed and A[6] ~= '' then unnamed = Books.putPosition(changes, A[6], A[8]) end
if unnamed then return redis.error_reply('ERR intentgate reconcile: books: ' .. unnamed .. ' names no account') end
local version = Books.version(A[9], 'reconcile', changes)
local id = call('XADD', K[1], '*', 'result', A[2])
call('HDEL', K[2], A[1])
if A[4] ~= '' then call('HSET', K[4], A[4], A[5]) end
if A[6] ~= '' then
  if A[8] == '0' then call('HDEL', K[5], A[6]) else call('HSET', K[5], A[6], A[8]) end
end
Books.flush(A[9], changes, version)
return id

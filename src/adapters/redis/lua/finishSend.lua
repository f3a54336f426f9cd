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
--   ARGV[12] booksPrefix: how every account's books key begins (`<prefix>books:`)
--
-- Books (lua/lib/books.lua, prepended): the send record, open UNKNOWN,
-- working order and position it writes are written to their account's
-- books too, in the same step.
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
--
-- Errors (nothing written)
--   error 'ERR intentgate finishSend: books: ' a send record, open UNKNOWN,
--     working order or position field it writes names no account
--   error 'ERR intentgate finishSend: books: ' the books' sequence, or the
--     open-order count of books it writes, is not a count (lua/lib/books.lua)

local LOST_DEPLOYMENT = -1 -- reply
local DUPLICATE = 0 -- reply
local POSITION = -2 -- reply

local call, K, A = redis.call, KEYS, ARGV
if call('GET', K[5]) ~= A[6] then return LOST_DEPLOYMENT end
local r = redis.pcall('XPENDING', K[1], A[1], A[2], A[2], 1)
if type(r) ~= 'table' or r.err or #r == 0 then return DUPLICATE end
if A[9] ~= '' and (call('HGET', K[7], A[9]) or '0') ~= A[10] then return POSITION end
-- the books the writes below change, known before the first write
local changes = Books.changes()
local unnamed = Books.putEntry(changes, 's:' .. A[3], call('HGET', K[3], A[3]), false)
if not unnamed and A[5] ~= '' then
  unnamed = Books.putEntry(changes, 'u:' .. A[3], call('HGET', K[4], A[3]), A[5])
end
if not unnamed and A[7] ~= '' then
  unnamed = Books.putEntry(changes, 'w:' .. A[7], call('HGET', K[6], A[7]), A[8])
end
if not unnamed and A[9] ~= '' then unnamed = Books.putPosition(changes, A[9], A[11]) end
if unnamed then return redis.error_reply('ERR intentgate finishSend: books: ' .. unnamed .. ' names no account') end
local version = Books.version(A[12], 'finishSend', changes)
local id = call('XADD', K[2], '*', 'result', A[4])
call('XACK', K[1], A[1], r[1][1])
call('HDEL', K[3], A[3])
if A[5] ~= '' then call('HSET', K[4], A[3], A[5]) end
if A[7] ~= '' then call('HSET', K[6], A[7], A[8]) end
if A[9] ~= '' then
  if A[11] == '0' then call('HDEL', K[7], A[9]) else call('HSET', K[7], A[9], A[11]) end
end
Books.flush(A[12], changes, version)
return id

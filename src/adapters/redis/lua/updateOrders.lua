-- updateOrders.lua: what happened to working orders after their result (a
-- fill, a cancel by a trading-state change or by the venue; wire-v1 §4a),
-- each update one atomic step, in order (Redis runs a script without
-- interleaving, so a later update sees an earlier one's writes). Called by
-- redisLedger.ts `updateOrders`; the reply codes are conflictCodes.ts
-- `REPLY_CODES.updateOrders`.
--
-- Input
--   KEYS[1] orders: hash working order key -> its `encodeWorkingOrder` text
--   KEYS[2] positions: hash position field -> canonical decimal text
--   KEYS[3] orderEvent: the order event stream
--   KEYS[4] deployment: the deployment marker (wire-v1 §7b)
--   ARGV[1] deployment: the deployment id the executor is bound to
--   ARGV[2] count: how many updates follow
--   ARGV[3] booksPrefix: how every account's books key begins (`<prefix>books:`)
--   ARGV[4..] updates: per update seven arguments: the order key, the text
--     it must still be stored as, the text to store ("" removes the order),
--     the event JSON, the position field ("" when the update moves no
--     position), the position text it must still be ("0" when flat), the
--     position text to set ("0" removes it)
--
-- Every user string travels as its own argument: the script compares and
-- copies texts, it never does arithmetic on money; it parses JSON only to
-- find the account of an order or position it writes.
--
-- Books (lua/lib/books.lua, prepended): each applied update's order and
-- position are written to their account's books too, in the same step.
--
-- Output
--   -1 lostDeployment: the marker is not the bound id; nothing read or written
--   Else one element per update, in order, one of these codes:
--   0 conflict: the order is not stored as the expected text, or the position is not its expected text; nothing written for it
--   1 applied: the order stored (or removed), the position set, the event appended
--
-- Errors (nothing written)
--   error 'ERR intentgate updateOrders: books: ' an order text or position
--     field of an update names no account (every update is read for it
--     before the first write)
--   error 'ERR intentgate updateOrders: books: ' the books' sequence, or the
--     open-order count of books it writes, is not a count (lua/lib/books.lua)
--   Redis' own errors (WRONGTYPE for a key of the wrong type): the three
--   keys are read (HLEN, HLEN, XLEN) before the first write, so a call that
--   fails writes nothing.

local LOST_DEPLOYMENT = -1 -- reply
local CONFLICT = 0 -- reply
local APPLIED = 1 -- reply

local call, A, K = redis.call, ARGV, KEYS
if call('GET', K[4]) ~= A[1] then return LOST_DEPLOYMENT end
call('HLEN', K[1])
call('HLEN', K[2])
call('XLEN', K[3])

local n = tonumber(A[2])
local FIRST = 4
-- every text an update may write names its account: refused before the first write if not
local probe = Books.changes()
for i = 1, n do
  local at = FIRST + 7 * (i - 1)
  local unnamed = Books.putEntry(probe, 'w:' .. A[at], A[at + 1], A[at + 2] ~= '' and A[at + 2])
  if not unnamed and A[at + 4] ~= '' then unnamed = Books.putPosition(probe, A[at + 4], A[at + 6]) end
  if unnamed then return redis.error_reply('ERR intentgate updateOrders: books: ' .. unnamed .. ' names no account') end
end

-- (the probe names every account the updates below may write)
local version = Books.version(A[3], 'updateOrders', probe)
local out = {}
local changes = Books.changes()
for i = 1, n do
  local at = FIRST + 7 * (i - 1)
  local key, expected, nextText, event = A[at], A[at + 1], A[at + 2], A[at + 3]
  local field, posExpected, posValue = A[at + 4], A[at + 5], A[at + 6]
  local ok = call('HGET', K[1], key) == expected
  if ok and field ~= '' then ok = (call('HGET', K[2], field) or '0') == posExpected end
  if not ok then
    out[i] = CONFLICT
  else
    if nextText == '' then call('HDEL', K[1], key) else call('HSET', K[1], key, nextText) end
    if field ~= '' then
      if posValue == '0' then call('HDEL', K[2], field) else call('HSET', K[2], field, posValue) end
    end
    call('XADD', K[3], '*', 'event', event)
    Books.putEntry(changes, 'w:' .. key, expected, nextText ~= '' and nextText)
    if field ~= '' then Books.putPosition(changes, field, posValue) end
    out[i] = APPLIED
  end
end
Books.flush(A[3], changes, version)
return out

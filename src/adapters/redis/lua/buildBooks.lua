-- buildBooks.lua: builds every account's books (lua/lib/books.lua) from the
-- hashes they mirror, in one atomic step, and marks them built. Called by
-- redisLedger.ts when a read for the exposure or open-order caps finds no
-- `books.ready` marker: a deployment older than the books, or a Redis whose
-- marker was lost (a restore, an operator's DEL). The reply codes are
-- conflictCodes.ts `REPLY_CODES.buildBooks`.
--
-- Input
--   KEYS[1] positions: hash position field -> canonical decimal text
--   KEYS[2] orders: hash working order key -> its `encodeWorkingOrder` text
--   KEYS[3] sends: hash `<lane>:<stream id>` -> send record JSON
--   KEYS[4] unknowns: hash `<lane>:<stream id>` -> send record JSON (open UNKNOWNs)
--   KEYS[5] booksReady: the marker set once the books are built
--   KEYS[6] deployment: the deployment marker (wire-v1 §7b)
--   ARGV[1] booksPrefix: how every account's books key begins (`<prefix>books:`)
--   ARGV[2] deployment: the deployment id the executor is bound to
--
-- Every books key under ARGV[1] is removed first (SCAN), so books left by
-- an older state of the hashes never outlive the build; the books built
-- carry a new version (lua/lib/books.lua), so no decision that read them
-- before the build passes a commit's exposure check after it.
--
-- Output
--   -1 lostDeployment: the marker is not the bound id; nothing read or written
--   1 built: the books are built from the hashes and marked ready
--
-- Errors (nothing written)
--   error 'ERR intentgate buildBooks: ' a position field, working order or
--     open record names no account (not the JSON IntentGate writes), or
--     the books' sequence is not a count

local LOST_DEPLOYMENT = -1 -- reply
local BUILT = 1 -- reply

local call, K, A = redis.call, KEYS, ARGV
if call('GET', K[6]) ~= A[2] then return LOST_DEPLOYMENT end

-- every entry of the four hashes, filed under its account (Books.put* report one that names none)
local changes = Books.changes()
local unnamed = nil
local flat = call('HGETALL', K[1])
for y = 1, #flat, 2 do
  unnamed = unnamed or Books.putPosition(changes, flat[y], flat[y + 1])
end
local sources = {{K[2], 'w:'}, {K[3], 's:'}, {K[4], 'u:'}}
for x = 1, 3 do
  flat = call('HGETALL', sources[x][1])
  for y = 1, #flat, 2 do
    unnamed = unnamed or Books.putEntry(changes, sources[x][2] .. flat[y], false, flat[y + 1])
  end
end
if unnamed then return redis.error_reply('ERR intentgate buildBooks: ' .. unnamed .. ' names no account') end

-- a new version for every account's books, so none repeats one they had before the build
local version = Books.version(A[1], 'buildBooks')
-- the prefix as a SCAN pattern: its glob characters escaped
local pattern = string.gsub(A[1], '[%*%?%[%]\\]', '\\%0') .. '*'
local cursor = '0'
repeat
  local r = call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
  cursor = r[1]
  local found = r[2]
  for j = 1, #found, 1000 do call('DEL', unpack(found, j, math.min(#found, j + 999))) end
until cursor == '0'
Books.flush(A[1], changes, version)
call('SET', K[5], '1')
return BUILT

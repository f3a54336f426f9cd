-- commit.lua: commits a batch of decisions, in order, each as one atomic
-- step (Redis runs a script without interleaving). Called by
-- redisLedger.ts `commit`; arguments built by commitArgs.ts, reply read by
-- commitReply.ts; the reply codes are conflictCodes.ts `REPLY_CODES.commit`.
-- (Over 400 lines: more than a quarter is this header, the script's contract; the rest
-- is one script because a whole batch must be one atomic Redis call. The
-- working-order part, header codes 13-16, is its own section of functions,
-- "Working orders", before the decision loop.)
--
-- Input
--   KEYS[1] planMain: the main lane's plan stream
--   KEYS[2] planManual: the manual lane's plan stream
--   KEYS[3] result: the result stream
--   KEYS[4] dlq: the DLQ stream
--   KEYS[5] state: the trading state (absent: ACTIVE)
--   KEYS[6] planIds: hash plan_id -> `<lane>:<stream id>` of its claimer
--   KEYS[7] permits: hash permit_id -> `<lane>:<stream id>` of its consumer
--   KEYS[8] positions: hash position field -> canonical decimal text
--   KEYS[9] sends: hash `<lane>:<stream id>` -> send record JSON (live orders being sent)
--   KEYS[10] deployment: the deployment marker (wire-v1 §7b)
--   KEYS[11] orders: hash working order key -> its `encodeWorkingOrder` text (wire-v1 §4a)
--   KEYS[12] orderEvent: the order event stream (wire-v1 §4a)
--   KEYS[13] unknowns: hash `<lane>:<stream id>` -> send record JSON (open UNKNOWNs)
--   KEYS[14] daily: hash JSON [account, day] -> canonical decimal text (notional placed that UTC day)
--   KEYS[15] booksReady: set once every account's books are built (lua/buildBooks.lua)
--   KEYS[16..] rateCounters: the batch's rate counters, each once, then its
--     duplicate-order marks (the last ARGV[17] of KEYS), each once
--   ARGV[1] group: the consumer group on both plan streams
--   ARGV[2] consumer: the consumer that most likely holds the entries ("" = unknown); only a hint
--   ARGV[3] decisions: how many decision records follow
--   ARGV[4] recordsLength: how many ARGV slots the decision records take
--   ARGV[5] rateChecks: how many rate checks follow the records
--   ARGV[6] planIds: how many plan_ids follow the rate checks
--   ARGV[7] permitIds: how many permit_ids follow the plan_ids
--   ARGV[8] positionFields: how many position fields follow the permit_ids
--   ARGV[9] mainLo: lowest stream id of the main lane's decisions ("" when none)
--   ARGV[10] mainHi: highest stream id of the main lane's decisions ("" when none)
--   ARGV[11] mainCount: rows to ask of the main lane's XPENDING
--   ARGV[12] manualLo: lowest stream id of the manual lane's decisions ("" when none)
--   ARGV[13] manualHi: highest stream id of the manual lane's decisions ("" when none)
--   ARGV[14] manualCount: rows to ask of the manual lane's XPENDING
--   ARGV[15] deployment: the deployment id the executor is bound to
--   ARGV[16] orderKeys: how many working-order keys follow the position fields
--   ARGV[17] dupKeys: how many of the KEYS, at their end, are duplicate-order marks
--   ARGV[18] dailyFields: how many daily-notional fields follow the working-order keys
--   ARGV[19] openOrders: "1" when a record checks an account's open orders (they are counted then), else ""
--   ARGV[20] exposureAccounts: how many accounts' books versions follow the daily-notional fields
--   ARGV[21] booksPrefix: how every account's books key begins (`<prefix>books:`, lua/lib/books.lua)
--   ARGV[22..] records: the decision records (below), then the rate checks
--     as [KEYS index, limit] pairs, then every plan_id, permit_id, position
--     field, working-order key and daily-notional field the records name
--     (each once: they are read with one HMGET per hash), then per account
--     whose exposure a record checks: the account, then the version of its
--     books the records were decided on ("" = no books: lua/lib/books.lua)
--
-- Every user string travels as its own argument, so the script never does
-- arithmetic on money; it parses JSON only to find the account of an entry
-- it writes or counts (working orders, send records and open UNKNOWNs name
-- their account, a position field begins with it).
--
-- Books (lua/lib/books.lua, prepended): every position, working order and
-- send record this call writes is written to its account's books too, in
-- the same step. The open-order count and the exposure check read the
-- checked accounts' books only, never the whole deployment's hashes.
--
-- A record is a header of 23 one-byte codes read with one `string.byte`,
-- then the stream id, the result JSON, and the values the codes announce,
-- in this order:
--    1 lane: m main, x manual
--    2 trading state check: - none, A/R/H ACTIVE/REDUCING/HALTED, * (state follows)
--    3 plan_id check: - none, u must be unclaimed, c must be claimed (id follows)
--    4 permit check: - none, u must be unused, c must be used (id follows)
--    5 rate check: - none, a must be allowed, d must be denied (1-based rate check number follows)
--    6 position check: - none, 1 (field and expected canonical text follow)
--    7 claim plan_id: - none, = the checked plan_id, 1 (id follows)
--    8 consume permit: - none, = the checked permit_id, 1 (id follows)
--    9 count rate: - none, = the checked counter, 1 (its KEYS index follows)
--   10 set position: - none, = the checked field, 1 (field follows); then the value ("0" removes it)
--   11 DLQ copy: - none, 1 (a count, then that many name/value arguments: the
--      original fields, then lane, stream_id, deliveries, error)
--   12 stage: - final (the JSON is the result), S send record (the JSON is the record)
--   13 working-order checks: - none, 1 (a count, then per check three
--      arguments: the key, `a` must be absent or `p` must be stored as, and
--      the text it must be stored as, "" after `a`)
--   14 open order: - none, 1 (the key, then the text to store)
--   15 close orders: - none, 1 (a count, then that many keys to remove)
--   16 order events: - none, 1 (a count, then that many event JSON texts)
--   17 duplicate check: - none, 1 (the mark's number among the duplicate-order
--      marks of KEYS, 1-based, then the text it must hold, "" = must be absent)
--   18 mark duplicate: - none, 1 (the mark's number, its new text, its time to
--      live in ms: SET … PX), = the checked mark, with the text and time to
--      live of the last record before it that had code 1
--   19 daily-notional check: - none, 1 (field and the text it must hold, "0" = absent)
--   20 set daily notional: - none, = the checked field, 1 (field follows); then the value
--   21 open-order check: - none, a must be allowed, d must be denied (the
--      account, then the limit: allowed needs count + 1 <= limit)
--   22 exposure check: - none, 1 (the account's snapshot number, 1-based
--      among the snapshots, then how many decisions of this call that touch
--      the account must have committed before it)
--   23 touches exposure: - none, = the checked account alone, 1 (a count,
--      then that many accounts whose exposure this decision's writes change)
--
-- Output
--   One element per decision, in order: the result entry id (a string) when
--   committed, else one of these codes:
--   'S' sendRecorded: committed a live order's stage 1 (its send record is written, no result)
--   1 duplicate: the entry is not pending in the group (it has its result); nothing written
--   2 tradingState: conflict, the trading state is not the checked one
--   3 planId: conflict, the plan_id is not (un)claimed as checked
--   4 permit: conflict, the permit_id is not (un)used as checked
--   5 rate: conflict, the rate decision no longer holds against the counter
--   6 position: conflict, the position is not the checked text
--   7 sendRecord: conflict, the entry has a send record (a live order is being sent)
--   8 deployment: conflict, the marker is not the bound id (every decision; nothing read or written)
--   9 workingOrders: conflict, a working order is not stored as the checked text (or not absent as checked)
--   10 duplicateOrder: conflict, a duplicate-order mark is not the checked text (or not absent as checked)
--   11 dailyNotional: conflict, the account's daily notional is not the checked text
--   12 openOrders: conflict, the open-order decision no longer holds against the account's count
--      (or the books are not built: `booksReady` missing)
--   13 exposure: conflict, the account's books (positions and open orders) are not at the
--      version read (as the call began), or not as many decisions touching it
--      committed before this one as it was decided after (or the books are not built)
--   Conflicts report the first failing check, in the order 7, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13.
--
-- Errors (the whole call fails and writes nothing)
--   error 'ERR intentgate commit: ' a plan_id, permit_id, rate check, rate
--     counter, position, working-order key, duplicate-order mark or
--     daily-notional field a record names was not announced in ARGV (or KEYS)
--   error 'ERR intentgate commit: rate counter ' a rate counter to increment
--     holds something other than an integer
--   error 'ERR intentgate commit: open order ' a working order or send record
--     that names no account, met counting open orders
--   error 'ERR intentgate commit: books: ' a position field, working order
--     or send record this call writes names no account (its books unknown),
--     the books' sequence is not a count, or the open-order count of books
--     it reads or writes is not a count (lua/lib/books.lua)
--   Redis' own errors (WRONGTYPE for a key of the wrong type, the order
--   event stream included: it is probed with XLEN before the first write)
--   also fail the call before the first write.
--
-- How it decides: per decision, in array order, with every read served from
-- tables the script loaded once per call and updated by the decisions
-- committed before it (so a later decision sees an earlier one's writes):
--   1. not pending in the group -> duplicate, write nothing;
--   2. a send record, then every check (trading state, plan_id, permit,
--      rate, position, working orders) -> the first failing is the
--      conflict, write nothing;
--   3. otherwise committed: its effects go into the tables and onto the
--      write lists.
--
-- Only after the last decision is decided does the script write, in this
-- order: DLQ copies, result entries (in decision order; their ids are the
-- reply), new plan_id claims (one HSET; set-if-absent is decided on the
-- table), permits (one HSET), rate counters (one INCRBY + EXPIRE per key),
-- positions (one HSET, one HDEL), working orders (one HSET, one HDEL; an
-- order both opened and closed by one decision ends closed), duplicate-order
-- marks (one SET … PX each: SET replaces a key of any type), order events
-- (one XADD each, in decision order), one XACK per lane. What could make a write
-- fail (a key of the wrong type, a rate counter that is not an integer) is
-- caught by the reads or refused before the first write, so a call that
-- fails writes nothing; and since nothing is written before the last check,
-- Redis' out-of-memory refusal (only ever on a script's first write) also
-- leaves nothing half done.
--
-- Pending check: one `XPENDING <stream> <group> <lo> <hi> <count> <consumer>`
-- per lane (the consumer's own PEL between the batch's lowest and highest
-- id) finds the entries still pending for the consumer that read them. An
-- id not found there (handed to another consumer by a reclaim, no consumer
-- known, or really done) is checked on its own with `XPENDING <stream>
-- <group> <id> <id> 1`, for any consumer, as the contract asks: the consumer
-- name only makes the common case one call, it never changes an outcome.
-- Nothing in this check writes (no XCLAIM: ownership, idle times and
-- delivery counts of entries that conflict stay as they were).
--
-- Send records (live orders, docs/architecture.md): a decision whose entry
-- has a send record in `sends` conflicts whatever it is; a decision flagged
-- `S` (stage 1 of a live order) carries its send record JSON in place of the
-- result and, once committed, writes it to `sends` instead of appending a
-- result and acknowledging.
--
-- Deployment: before anything else, the marker must hold the id the executor
-- is bound to; otherwise every decision is a conflict and nothing is read or
-- written (wire-v1 §7b: a Redis that lost its data is never decided against).

local SEND_RECORDED = 'S' -- reply
local DUPLICATE = 1 -- reply
local TRADING_STATE = 2 -- reply
local PLAN_ID = 3 -- reply
local PERMIT = 4 -- reply
local RATE = 5 -- reply
local POSITION = 6 -- reply
local SEND_RECORD = 7 -- reply
local DEPLOYMENT = 8 -- reply
local WORKING_ORDERS = 9 -- reply
local DUPLICATE_ORDER = 10 -- reply
local DAILY_NOTIONAL = 11 -- reply
local OPEN_ORDERS = 12 -- reply
local EXPOSURE = 13 -- reply

-- first ARGV slot of the records, first KEYS slot of the rate counters (the header's `..` entries)
local REC = 22
local RATE_KEYS = 16
-- seconds a rate counter lives after its last increment
local RATE_TTL_SECONDS = 10 -- RATE_COUNTER_TTL_MS (src/ports/ledger.ts) in seconds; luaContract.test.ts checks it

local call, pcall_ = redis.call, redis.pcall
local tonumber, tostring, byte, unpack, min = tonumber, tostring, string.byte, unpack, math.min
local A, K = ARGV, KEYS
local CHUNK = 1000
local DASH, EQ, STAR, MAIN = 45, 61, 42, 109
local UNCLAIMED, ALLOWED, STAGE_SEND = 117, 97, 83
local STATES = {[65] = 'ACTIVE', [82] = 'REDUCING', [72] = 'HALTED'}

local group, consumer = A[1], A[2]
local n, recLen = tonumber(A[3]), tonumber(A[4])
if call('GET', K[10]) ~= A[15] then
  local lost = {}
  for i = 1, n do lost[i] = DEPLOYMENT end
  return lost
end
local nRate, nPid, nPm, nPos = tonumber(A[5]), tonumber(A[6]), tonumber(A[7]), tonumber(A[8])
local rateBase = REC + recLen
local pidBase = rateBase + 2 * nRate
local pmBase = pidBase + nPid
local posBase = pmBase + nPm
local nOrd = tonumber(A[16])
local ordBase = posBase + nPos
local nDaily = tonumber(A[18])
local dailyBase = ordBase + nOrd

local function missing(what, v)
  return redis.error_reply('ERR intentgate commit: ' .. what .. ' ' .. tostring(v) .. ' not announced')
end

-- pending: per lane, id -> true (pending) | false (not pending, or committed by this call)
local pend = {{}, {}}
if consumer ~= '' then
  for s = 1, 2 do
    local lo = A[6 + 3 * s]
    if lo ~= '' then
      local rows = pcall_('XPENDING', K[s], group, lo, A[7 + 3 * s], A[8 + 3 * s], consumer)
      if type(rows) == 'table' and not rows.err then
        local t = pend[s]
        for x = 1, #rows do t[rows[x][1]] = true end
      end
    end
  end
end

-- shared state, read once: field -> value, false when absent
local function load(key, first, count)
  local t = {}
  local last = first + count - 1
  for j = first, last, CHUNK do
    local vals = call('HMGET', key, unpack(A, j, min(last, j + CHUNK - 1)))
    for x = 1, #vals do t[A[j + x - 1]] = vals[x] end
  end
  return t
end
local pidv = load(K[6], pidBase, nPid)
local pmv = load(K[7], pmBase, nPm)
local posv = load(K[8], posBase, nPos)
local nDup = tonumber(A[17])
local dupBase = #K - nDup
local rateRaw, rateCount, keyOf = {}, {}, {}
for k = RATE_KEYS, dupBase do
  local v = call('GET', K[k])
  rateRaw[k] = v
  rateCount[k] = v and tonumber(v) or 0
  keyOf[tostring(k)] = k
end
local rateKey, rateLimit = {}, {}
for x = 1, nRate do
  local ref = tostring(x)
  rateKey[ref] = tonumber(A[rateBase + 2 * x - 2])
  rateLimit[ref] = tonumber(A[rateBase + 2 * x - 1])
end
-- duplicate-order marks: number -> stored text, false when absent; updated by committed decisions
local dupv, dupTtl, dupDirty = {}, {}, {}
if nDup > 0 then
  local vals = call('MGET', unpack(K, dupBase + 1, #K))
  for x = 1, nDup do dupv[x] = vals[x] or false end
end
local state = nil
local hasSends = call('EXISTS', K[9]) == 1
local newSends = {}

-- ---- Working orders (header codes 13-16), on a table loaded like positions:
-- key -> stored text, false when absent; updated by committed decisions.
local ordv = load(K[11], ordBase, nOrd)
local ordDirty, ordSeen, ordWas = {}, {}, {}

-- Whether the `count` checks from ARGV index `at` (key, a|p, text) all hold;
-- second value: a key that was not announced.
local function ordersHold(at, count)
  for j = at, at + 3 * (count - 1), 3 do
    local v = ordv[A[j]]
    if v == nil then return false, A[j] end
    if A[j + 1] == 'a' then
      if v ~= false then return false end
    elseif v ~= A[j + 2] then
      return false
    end
  end
  return true
end

-- Stores `v` (false: removes) under `key` in the table; returns the key when it was not announced.
local function setOrder(key, v)
  if ordv[key] == nil then return key end
  if not ordSeen[key] then
    ordSeen[key] = true
    ordWas[key] = ordv[key]
    ordDirty[#ordDirty + 1] = key
  end
  ordv[key] = v
  return nil
end

-- A committed decision's open order (`openAt`: key, text) then its closed
-- keys (`closeAt`, `closeN`); returns a key that was not announced.
local function applyOrders(openAt, closeAt, closeN)
  if openAt then
    local bad = setOrder(A[openAt], A[openAt + 1])
    if bad then return bad end
  end
  if closeAt then
    for j = closeAt, closeAt + closeN - 1 do
      local bad = setOrder(A[j], false)
      if bad then return bad end
    end
  end
  return nil
end
-- ---- end of working orders

-- ---- Account caps (header codes 19-21)
-- daily notional: field -> stored text, false when absent; updated by committed decisions
local dailyv = load(K[14], dailyBase, nDaily)
local dailyDirty, dailySeen = {}, {}

-- Books (lua/lib/books.lua): what the open-order count and exposure checks
-- read, one field of one account's books each (its open-order count, its
-- version), as the call began (nothing is written before the last decision
-- is decided). While `books.ready` is missing (the books not built) every
-- such check fails: the executor reads again, and that read builds them.
local booksPrefix = A[21]
local booksReady = false
local nExp = tonumber(A[20])
if A[19] == '1' or nExp > 0 then booksReady = call('EXISTS', K[15]) == 1 end

-- open orders: per account checked, its books' count of working orders, sends
-- and open UNKNOWNs as the call began, then what this call's committed decisions
-- opened and closed (`openDelta`, kept for every account while ARGV[19] is set)
local openDelta = nil
local openBase = {}
local function accountOf(text, what)
  local account = Books.recordAccount(text)
  if account == false then
    error(redis.error_reply('ERR intentgate commit: open order ' .. what .. ' names no account'))
  end
  return account
end
local function countOpen(account, delta)
  if account then openDelta[account] = (openDelta[account] or 0) + delta end
end
local function openOrdersOf(account)
  local n = openBase[account]
  if n == nil then
    local books = booksPrefix .. account
    n = Books.countOf(books)
    if not n then
      error(redis.error_reply('ERR intentgate commit: books: ' .. books .. ' open-order count is not a count'))
    end
    openBase[account] = n
  end
  return n + (openDelta[account] or 0)
end
if A[19] == '1' then openDelta = {} end

-- exposure: per snapshot number, whether the account's books still carry the
-- version the decision read (lua/lib/books.lua: every write of them makes a
-- new one, so the same version is the same books); then committed decisions
-- touching it are counted
local expAccount, expHeld, expTouched = {}, {}, {}
if nExp > 0 then
  local j = dailyBase + nDaily
  for x = 1, nExp do
    local acct = A[j]
    expAccount[x] = acct
    expHeld[x] = booksReady and (call('HGET', booksPrefix .. acct, Books.VERSION) or '') == A[j + 1]
    j = j + 2
  end
end
-- ---- end of account caps

-- the text and time to live of the last explicit duplicate mark (header code 18 `=` repeats them)
local lastMarkText, lastMarkTtl = nil, nil

local out = {}
local comDecision, comResult, comDlq, comSend = {}, {}, {}, {}
local acks = {{}, {}}
local claims = {}
local pmDirty, pmSeen = {}, {}
local posDirty, posSeen = {}, {}
local rateDelta, rateTouched = {}, {}
local comEvents = {} -- ARGV index of a committed decision's first order event, then their count

local p = REC
for i = 1, n do
  local cl, cts, cpid, cpm, crt, cpos, epid, epm, ert, epos, edlq, stage, cwo, eop, ecl, eev, cdup, edup,
    cday, eday, copen, cexp, etouch = byte(A[p], 1, 23)
  local id = A[p + 1]
  local ri = p + 2
  p = p + 3
  local ts, pid, pm, rref, pf, px, pide, pme, rk, pef, pval, dlq
  if cts ~= DASH then
    if cts == STAR then ts = A[p]; p = p + 1 else ts = STATES[cts] end
  end
  if cpid ~= DASH then pid = A[p]; p = p + 1 end
  if cpm ~= DASH then pm = A[p]; p = p + 1 end
  if crt ~= DASH then rref = A[p]; p = p + 1 end
  if cpos ~= DASH then pf = A[p]; px = A[p + 1]; p = p + 2 end
  if epid == EQ then pide = pid elseif epid ~= DASH then pide = A[p]; p = p + 1 end
  if epm == EQ then pme = pm elseif epm ~= DASH then pme = A[p]; p = p + 1 end
  if ert == EQ then rk = rateKey[rref] elseif ert ~= DASH then rk = keyOf[A[p]]; p = p + 1 end
  if epos ~= DASH then
    if epos == EQ then pef = pf else pef = A[p]; p = p + 1 end
    pval = A[p]; p = p + 1
  end
  if edlq ~= DASH then dlq = p; p = p + 1 + tonumber(A[p]) end
  local woAt, woN, openAt, closeAt, closeN, evAt, evN
  if cwo ~= DASH then woN = tonumber(A[p]); woAt = p + 1; p = woAt + 3 * woN end
  if eop ~= DASH then openAt = p; p = p + 2 end
  if ecl ~= DASH then closeN = tonumber(A[p]); closeAt = p + 1; p = closeAt + closeN end
  if eev ~= DASH then evN = tonumber(A[p]); evAt = p + 1; p = evAt + evN end
  local dupAt, dupExp, markAt
  if cdup ~= DASH then dupAt = tonumber(A[p]); dupExp = A[p + 1]; p = p + 2 end
  local markNum, markText, markTtl
  if edup == EQ then
    markNum, markText, markTtl = dupAt, lastMarkText, lastMarkTtl
  elseif edup ~= DASH then
    markAt = p
    markNum, markText, markTtl = tonumber(A[p]), A[p + 1], A[p + 2]
    lastMarkText, lastMarkTtl = markText, markTtl
    p = p + 3
  end
  local dayF, dayX, dayEF, dayVal, openAcct, openLimit
  if cday ~= DASH then dayF = A[p]; dayX = A[p + 1]; p = p + 2 end
  if eday ~= DASH then
    if eday == EQ then dayEF = dayF else dayEF = A[p]; p = p + 1 end
    dayVal = A[p]; p = p + 1
  end
  if copen ~= DASH then openAcct = A[p]; openLimit = tonumber(A[p + 1]); p = p + 2 end
  local expX, expN, touchAt, touchN
  if cexp ~= DASH then expX = tonumber(A[p]); expN = tonumber(A[p + 1]); p = p + 2 end
  local touchSelf = etouch == EQ
  if etouch ~= DASH and not touchSelf then touchN = tonumber(A[p]); touchAt = p + 1; p = touchAt + touchN end

  local s = 2
  if cl == MAIN then s = 1 end
  local t = pend[s]
  local pv = t[id]
  local canon = id
  if pv == nil then
    local r = pcall_('XPENDING', K[s], group, id, id, 1)
    if type(r) == 'table' and not r.err and #r > 0 then
      canon = r[1][1]
      pv = t[canon] ~= false
    else
      pv = false
    end
    t[id] = pv
  end
  if not pv then
    out[i] = DUPLICATE
  else
    local bad = nil
    local sf = (s == 1 and 'main:' or 'manual:') .. id
    if newSends[sf] or (hasSends and call('HEXISTS', K[9], sf) == 1) then bad = SEND_RECORD end
    if not bad and ts then
      if state == nil then state = call('GET', K[5]) or 'ACTIVE' end
      if state ~= ts then bad = TRADING_STATE end
    end
    if not bad and pid then
      local v = pidv[pid]
      if v == nil then return missing('plan_id', pid) end
      if (v ~= false) == (cpid == UNCLAIMED) then bad = PLAN_ID end
    end
    if not bad and pm then
      local v = pmv[pm]
      if v == nil then return missing('permit_id', pm) end
      if (v ~= false) == (cpm == UNCLAIMED) then bad = PERMIT end
    end
    if not bad and rref then
      local k = rateKey[rref]
      if k == nil then return missing('rate check', rref) end
      if (rateCount[k] + 1 <= rateLimit[rref]) ~= (crt == ALLOWED) then bad = RATE end
    end
    if not bad and pf then
      local v = posv[pf]
      if v == nil then return missing('position', pf) end
      if (v or '0') ~= px then bad = POSITION end
    end
    if not bad and woN then
      local ok, unknown = ordersHold(woAt, woN)
      if unknown then return missing('working order', unknown) end
      if not ok then bad = WORKING_ORDERS end
    end
    if not bad and dupAt then
      local v = dupv[dupAt]
      if v == nil then return missing('duplicate mark', dupAt) end
      if dupExp == '' then
        if v ~= false then bad = DUPLICATE_ORDER end
      elseif v ~= dupExp then
        bad = DUPLICATE_ORDER
      end
    end
    if not bad and dayF then
      local v = dailyv[dayF]
      if v == nil then return missing('daily notional', dayF) end
      if (v or '0') ~= dayX then bad = DAILY_NOTIONAL end
    end
    if not bad and openAcct then
      if openDelta == nil then return missing('open-order count of', openAcct) end
      if not booksReady or (openOrdersOf(openAcct) + 1 <= openLimit) ~= (copen == ALLOWED) then
        bad = OPEN_ORDERS
      end
    end
    if not bad and expX then
      local acct = expAccount[expX]
      if acct == nil then return missing('exposure snapshot', expX) end
      if not expHeld[expX] or (expTouched[acct] or 0) ~= expN then bad = EXPOSURE end
    end
    if bad then
      out[i] = bad
    else
      local owner = nil
      if pide then
        local v = pidv[pide]
        if v == nil then return missing('plan_id', pide) end
        if v == false then
          owner = (s == 1 and 'main:' or 'manual:') .. id
          pidv[pide] = owner
          claims[#claims + 1] = pide
          claims[#claims + 1] = owner
        end
      end
      if pme then
        if pmv[pme] == nil then return missing('permit_id', pme) end
        pmv[pme] = owner or ((s == 1 and 'main:' or 'manual:') .. id)
        if not pmSeen[pme] then
          pmSeen[pme] = true
          pmDirty[#pmDirty + 1] = pme
        end
      end
      if rk then
        rateCount[rk] = rateCount[rk] + 1
        if rateDelta[rk] then
          rateDelta[rk] = rateDelta[rk] + 1
        else
          rateDelta[rk] = 1
          rateTouched[#rateTouched + 1] = rk
        end
      elseif ert ~= DASH then
        return missing('rate counter', rref)
      end
      if pef then
        if posv[pef] == nil then return missing('position', pef) end
        if pval == '0' then posv[pef] = false else posv[pef] = pval end
        if not posSeen[pef] then
          posSeen[pef] = true
          posDirty[#posDirty + 1] = pef
        end
      end
      if openDelta then
        -- before applyOrders: a closed order's account is read from its text
        if openAt then countOpen(accountOf(A[openAt + 1], 'working order'), 1) end
        if stage == STAGE_SEND then countOpen(accountOf(A[ri], 'send record'), 1) end
        if closeAt then
          for j = closeAt, closeAt + closeN - 1 do
            local v = ordv[A[j]]
            if v then countOpen(accountOf(v, 'working order'), -1) end
          end
        end
      end
      if dayEF then
        if dailyv[dayEF] == nil then return missing('daily notional', dayEF) end
        dailyv[dayEF] = dayVal
        if not dailySeen[dayEF] then
          dailySeen[dayEF] = true
          dailyDirty[#dailyDirty + 1] = dayEF
        end
      end
      if touchSelf then
        local acct = expAccount[expX]
        if acct == nil then return missing('exposure snapshot', expX) end
        expTouched[acct] = (expTouched[acct] or 0) + 1
      elseif touchAt then
        for j = touchAt, touchAt + touchN - 1 do expTouched[A[j]] = (expTouched[A[j]] or 0) + 1 end
      end
      local unknownOrder = applyOrders(openAt, closeAt, closeN)
      if unknownOrder then return missing('working order', unknownOrder) end
      if edup ~= DASH then
        local m = markNum
        if m == nil or dupv[m] == nil or markText == nil then
          return missing('duplicate mark', markAt and A[markAt] or '=')
        end
        if not dupTtl[m] then dupDirty[#dupDirty + 1] = m end
        dupv[m] = markText
        dupTtl[m] = markTtl
      end
      local c = #comDecision + 1
      comDecision[c] = i
      comResult[c] = ri
      comDlq[c] = dlq or 0
      if evAt then
        comEvents[#comEvents + 1] = evAt
        comEvents[#comEvents + 1] = evN
      end
      if stage == STAGE_SEND then
        newSends[sf] = true
        comSend[c] = sf
      else
        t[canon] = false
        t[id] = false
        local a = acks[s]
        a[#a + 1] = canon
        comSend[c] = false
      end
      -- committed: the result id (or SEND_RECORDED) is filled in by the writes below
      out[i] = false
    end
  end
end

-- The books of every account whose entries this call changes (lua/lib/books.lua);
-- an entry that names no account refuses the call before its first write.
local function booksChanges()
  local changes = Books.changes()
  for x = 1, #posDirty do
    local f = posDirty[x]
    local unnamed = Books.putPosition(changes, f, posv[f])
    if unnamed then return nil, unnamed end
  end
  for x = 1, #ordDirty do
    local key = ordDirty[x]
    local unnamed = Books.putEntry(changes, 'w:' .. key, ordWas[key], ordv[key])
    if unnamed then return nil, unnamed end
  end
  for x = 1, #comDecision do
    local sf = comSend[x]
    if sf then
      local unnamed = Books.putEntry(changes, 's:' .. sf, false, A[comResult[x]])
      if unnamed then return nil, unnamed end
    end
  end
  return changes
end

if #comDecision > 0 then
  local changes, unnamed = booksChanges()
  if not changes then
    return redis.error_reply('ERR intentgate commit: books: ' .. unnamed .. ' names no account')
  end
  local version = Books.version(booksPrefix, 'commit', changes)
  -- INCRBY must not fail after the first write: refuse a counter that is not an integer now
  for x = 1, #rateTouched do
    local v = rateRaw[rateTouched[x]]
    if v and (#v > 18 or not string.match(v, '^%-?%d+$')) then
      return redis.error_reply('ERR intentgate commit: rate counter ' .. K[rateTouched[x]] .. ' is not an integer')
    end
  end
  -- XADD must not fail after the first write: WRONGTYPE from this read instead
  if #comEvents > 0 then call('XLEN', K[12]) end
  for x = 1, #comDecision do
    local d = comDlq[x]
    if d ~= 0 then call('XADD', K[4], '*', unpack(A, d + 1, d + tonumber(A[d]))) end
  end
  for x = 1, #comDecision do
    local sf = comSend[x]
    if sf then
      call('HSET', K[9], sf, A[comResult[x]])
      out[comDecision[x]] = SEND_RECORDED
    else
      out[comDecision[x]] = call('XADD', K[3], '*', 'result', A[comResult[x]])
    end
  end
  if #claims > 0 then Books.listCall('HSET', K[6], claims) end
  if #pmDirty > 0 then
    local args = {}
    for x = 1, #pmDirty do
      local f = pmDirty[x]
      args[2 * x - 1] = f
      args[2 * x] = pmv[f]
    end
    Books.listCall('HSET', K[7], args)
  end
  for x = 1, #rateTouched do
    local k = rateTouched[x]
    call('INCRBY', K[k], rateDelta[k])
    call('EXPIRE', K[k], RATE_TTL_SECONDS)
  end
  -- each: one HSET of the present, one HDEL of the removed (false)
  Books.writeHash(K[8], posDirty, posv)
  Books.writeHash(K[11], ordDirty, ordv)
  Books.writeHash(K[14], dailyDirty, dailyv)
  Books.flush(booksPrefix, changes, version)
  for x = 1, #dupDirty do
    local m = dupDirty[x]
    call('SET', K[dupBase + m], dupv[m], 'PX', dupTtl[m])
  end
  for x = 1, #comEvents, 2 do
    local at = comEvents[x]
    for j = at, at + comEvents[x + 1] - 1 do call('XADD', K[12], '*', 'event', A[j]) end
  end
  for s = 1, 2 do
    local a = acks[s]
    for j = 1, #a, CHUNK do call('XACK', K[s], group, unpack(a, j, min(#a, j + CHUNK - 1))) end
  end
end
return out

-- lib/books.lua: each account's books, kept by every script that writes an
-- account's entries (luaScripts.ts SCRIPT_LIBRARIES prepends this file to
-- them), in the same atomic step as the write.
--
-- An account's books are the hash `<prefix>books:<account>`: under its
-- exposure snapshot id (core/exposure.ts EXPOSURE_IDS), every entry of the
-- account, with the exact text of the hash it mirrors:
--   p:<position field>  -> the position (positions hash)
--   w:<order key>       -> the working order (orders hash)
--   s:<send key>        -> the send record of a live order being sent (sends hash)
--   u:<send key>        -> the open UNKNOWN's record (unknowns hash)
--   v                   -> the books' version: the value of the books'
--                          sequence (`<prefix>books.seq`) when a script last
--                          wrote them, so no two states of any account's
--                          books ever carry the same version
--   n                   -> how many entries are not positions (`w:`, `s:`,
--                          `u:`: the orders that may still fill), kept from
--                          what HSET added and HDEL removed; absent = 0
-- A live cancel's record names no account and is in no books. The exposure
-- and open-order caps read (and the commit re-checks) one account's books,
-- not the whole deployment's hashes. `<prefix>books.ready` says every
-- account's books were built from the hashes (lua/buildBooks.lua); the
-- writers keep them from then on.
--
-- An account's key is known only once its entry is read, so these (and
-- the books' sequence, `<prefix>books.seq`, named from the same prefix) are
-- the one family of keys a script names without being passed them: all
-- share the deployment's prefix (and, on a Cluster, its hash tag).
--
-- Nothing here writes before `Books.flush`, and nothing here raises but
-- `Books.version`, which a script calls before its first write: a text that
-- names no account is reported to the script, which refuses the call before
-- its first write.

local Books = {}
do
  local decode, pcall_, find, sub, byte = cjson.decode, pcall, string.find, string.sub, string.byte
  local tonumber_, concat = tonumber, table.concat

  -- JSON text with every \u escape of a lone surrogate (not half of a pair)
  -- replaced by \ufffd: cjson refuses them, and Node names a key holding one
  -- with U+FFFD (its UTF-8 encoding), so both sides get the same key.
  local function loneSurrogatesReplaced(text)
    local out, from, i = {}, 1, 1
    while true do
      local s = find(text, '\\', i, true)
      if not s then break end
      if byte(text, s + 1) ~= 117 then -- not \u: skip the escaped character (\\ included)
        i = s + 2
      else
        local v = tonumber_(sub(text, s + 2, s + 5), 16) or 0
        local paired = false
        if v >= 0xD800 and v <= 0xDBFF and sub(text, s + 6, s + 7) == '\\u' then
          local w = tonumber_(sub(text, s + 8, s + 11), 16) or 0
          paired = w >= 0xDC00 and w <= 0xDFFF
        end
        if paired then
          i = s + 12
        elseif v >= 0xD800 and v <= 0xDFFF then
          out[#out + 1] = sub(text, from, s - 1)
          out[#out + 1] = '\\ufffd'
          from = s + 6
          i = s + 6
        else
          i = s + 6
        end
      end
    end
    out[#out + 1] = sub(text, from)
    return concat(out)
  end

  -- The JSON value of `text`, or nil when it is not JSON.
  local function decoded(text)
    local ok, v = pcall_(decode, text)
    if ok then return v end
    ok, v = pcall_(decode, loneSurrogatesReplaced(text))
    if ok then return v end
    return nil
  end

  local byField = {}
  -- The account a position field names: its first JSON string (the field
  -- is core/facts.ts `positionKey`); nil when the field is not one.
  function Books.positionAccount(field)
    local a = byField[field]
    if a == nil then
      a = false
      -- the first string ends at the first quote not escaped by an odd run of backslashes
      if sub(field, 1, 2) == '["' then
        local i = 3
        while true do
          local q = find(field, '"', i, true)
          if not q then break end
          local b = q - 1
          while byte(field, b) == 92 do b = b - 1 end
          if (q - 1 - b) % 2 == 0 then
            local escape = find(field, '\\', 3, true)
            if not escape or escape > q then
              a = sub(field, 3, q - 1) -- no escape: the JSON string is the account's own text
            else
              local v = decoded(sub(field, 1, q) .. ']')
              if type(v) == 'table' and type(v[1]) == 'string' then a = v[1] end
            end
            break
          end
          i = q + 1
        end
      end
      byField[field] = a
    end
    return a or nil
  end

  -- what a record's text names, decoded once per call: its account, false
  -- (none), or CANCEL (a live cancel's record)
  local CANCEL = 0
  local byText = {}
  local function namedBy(text)
    local v = decoded(text)
    if type(v) == 'table' then
      if v.kind == 'cancel' then return CANCEL end
      if type(v.account) == 'string' then return v.account end
      if type(v.ref) == 'table' and type(v.ref.account) == 'string' then return v.ref.account end
    end
    return false
  end

  -- The account a working order or open record names (`account`, or
  -- `ref.account`): nil for a live cancel's record, false when the text
  -- names none (not the JSON IntentGate writes). Each text is decoded once
  -- per call, however many times it is asked about.
  function Books.recordAccount(text)
    local a = byText[text]
    if a == nil then
      a = namedBy(text)
      byText[text] = a
    end
    if a == CANCEL then return nil end
    return a
  end

  -- Books writes collected before a script's first write: account -> {id -> text, false to remove}.
  function Books.changes()
    return {order = {}, byAccount = {}}
  end

  -- Records that the books of `account` hold `text` under `id` (false: nothing).
  function Books.put(changes, account, id, text)
    local t = changes.byAccount[account]
    if not t then
      t = {ids = {}, texts = {}}
      changes.byAccount[account] = t
      changes.order[#changes.order + 1] = account
    end
    if t.texts[id] == nil then t.ids[#t.ids + 1] = id end
    t.texts[id] = text
  end

  -- Records a position's new text (`value`; "0" or false: removed). Returns
  -- what names no account (its field is not a position field), else nil.
  function Books.putPosition(changes, field, value)
    local account = Books.positionAccount(field)
    if not account then return 'position field ' .. field end
    if value == '0' then value = false end
    Books.put(changes, account, 'p:' .. field, value)
    return nil
  end

  -- Records that the working order or open record under `id` (`w:<key>`,
  -- `s:<send key>`, `u:<send key>`) goes from text `was` to `now` (false or
  -- nil: absent). Returns what names no account, else nil.
  function Books.putEntry(changes, id, was, now)
    local a0, a1
    if was then a0 = Books.recordAccount(was) end
    if now then a1 = Books.recordAccount(now) end
    if a0 == false or a1 == false then return 'entry ' .. id end
    if a0 and a0 ~= a1 then Books.put(changes, a0, id, false) end
    if a1 then Books.put(changes, a1, id, now) end
    return nil
  end

  -- Runs `cmd key …list`, 1000 list items per call (unpack's limit stays
  -- far); returns the replies summed (HSET: fields added, HDEL: removed).
  function Books.listCall(cmd, key, list)
    local sum = 0
    for j = 1, #list, 1000 do
      sum = sum + redis.call(cmd, key, unpack(list, j, math.min(#list, j + 999)))
    end
    return sum
  end

  -- Writes fields of a hash: `ids` in order, each to its text in `texts`;
  -- one HSET of those with a text, one HDEL of those without (false).
  -- Returns how many fields that added, less how many it removed.
  function Books.writeHash(key, ids, texts)
    local set, del = {}, {}
    for y = 1, #ids do
      local id = ids[y]
      local text = texts[id]
      if text then
        set[#set + 1] = id
        set[#set + 1] = text
      else
        del[#del + 1] = id
      end
    end
    return Books.listCall('HSET', key, set) - Books.listCall('HDEL', key, del)
  end

  -- The fields of an account's books that hold their version and their
  -- open-order count (never snapshot ids: those have a colon).
  Books.VERSION = 'v'
  Books.COUNT = 'n'
  local POSITION_ID = 112 -- `p`

  -- The open-order count of the books under `key`; nil when the field holds
  -- something other than a count.
  function Books.countOf(key)
    local v = redis.call('HGET', key, Books.COUNT)
    if not v then return 0 end
    if #v > 15 or not find(v, '^%d+$') then return nil end
    return tonumber_(v)
  end

  -- The version a script's `Books.flush` writes: one more than the books'
  -- sequence (`<prefix>books.seq`, beside `<prefix>books.ready`), read
  -- before the script's first write. Raises (nothing written yet) when the
  -- sequence holds something other than a count, which SET would otherwise
  -- replace and so let a version repeat, or when the open-order count of
  -- books `changes` will write is not a count (HINCRBY would fail after the
  -- first write); `changes` nil skips that (a build replaces every count).
  function Books.version(prefix, script, changes)
    local key = sub(prefix, 1, -2) .. '.seq'
    local v = redis.call('GET', key)
    local n = 0
    if v then
      if #v > 15 or not find(v, '^%d+$') then
        error(redis.error_reply('ERR intentgate ' .. script .. ': books: ' .. key .. ' is not a count'))
      end
      n = tonumber_(v)
    end
    if changes then
      for x = 1, #changes.order do
        local books = prefix .. changes.order[x]
        if not Books.countOf(books) then
          error(redis.error_reply('ERR intentgate ' .. script .. ': books: ' .. books .. ' open-order count is not a count'))
        end
      end
    end
    return {key = key, text = string.format('%d', n + 1)}
  end

  -- Writes the collected changes: per account its positions and `version`
  -- (Books.version) with one HSET and one HDEL, its orders with another
  -- pair, whose replies (fields added less fields removed) move the
  -- open-order count; then the sequence, when any account's books changed.
  function Books.flush(prefix, changes, version)
    if #changes.order == 0 then return end
    for x = 1, #changes.order do
      local account = changes.order[x]
      local key = prefix .. account
      local t = changes.byAccount[account]
      local others, orders = {Books.VERSION}, {}
      t.texts[Books.VERSION] = version.text
      for y = 1, #t.ids do
        local id = t.ids[y]
        if byte(id) == POSITION_ID then others[#others + 1] = id else orders[#orders + 1] = id end
      end
      Books.writeHash(key, others, t.texts)
      local moved = Books.writeHash(key, orders, t.texts)
      if moved ~= 0 then redis.call('HINCRBY', key, Books.COUNT, moved) end
    end
    redis.call('SET', version.key, version.text)
  end
end

-- holdLease.lua: takes or renews a named lease (Ledger.holdLease), one atomic
-- step, so at most one owner holds it at a time. Called by redisLedger.ts
-- `holdLease`; the reply codes are conflictCodes.ts `REPLY_CODES.holdLease`.
--
-- Input
--   KEYS[1] lease: the lease's key, holding its owner while held
--   ARGV[1] owner: who asks (the executor's consumer name)
--   ARGV[2] ttlMs: how long the lease holds after this call, in ms
--
-- Output
--   1 held: the lease was free or already the owner's; it is the owner's for ttlMs more
--   0 taken: another owner holds it; nothing written

local HELD = 1 -- reply
local TAKEN = 0 -- reply

local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return TAKEN end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return HELD

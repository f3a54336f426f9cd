/**
 * Scripts for the later stages of a live order (stage 1 is the commit
 * script's `S` records; docs/architecture.md "Live orders").
 *
 * Both first check the deployment marker: not the bound id → -1, nothing
 * written (wire-v1 §7b).
 *
 * FINISH (stage 2) — KEYS: 1 the entry's plan stream, 2 result, 3 sends,
 * 4 unknowns, 5 deployment; ARGV: 1 group, 2 stream id, 3 field
 * `<lane>:<id>`, 4 result JSON, 5 the send record JSON to keep as an open
 * UNKNOWN, or "" for a final result, 6 the bound deployment id. Not pending
 * → 0 (duplicate), nothing written; else XADD the result, XACK, HDEL the
 * send record, HSET the open UNKNOWN when asked; reply the result id.
 *
 * RECONCILE — KEYS: 1 result, 2 unknowns, 3 deployment; ARGV: 1 field,
 * 2 result JSON, 3 the bound deployment id. No open UNKNOWN for the field →
 * 0 (duplicate); else XADD the result and HDEL the open UNKNOWN; reply the
 * result id. Deleting the record in the same script as the append is what
 * makes the follow-up once-only.
 */
export const FINISH_LUA = `
if redis.call('GET', KEYS[5]) ~= ARGV[6] then return -1 end
local r = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(r) ~= 'table' or r.err or #r == 0 then return 0 end
local id = redis.call('XADD', KEYS[2], '*', 'result', ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], r[1][1])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[4], ARGV[3], ARGV[5]) end
return id
`;

export const RECONCILE_LUA = `
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local id = redis.call('XADD', KEYS[1], '*', 'result', ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
return id
`;

/**
 * INIT (`DeploymentStore.initDeployment`) — KEYS: 1 deployment, 2 plan main,
 * 3 plan manual, 4 state, 5 state log; ARGV: 1 new id, 2 replace ("1"/"0"),
 * 3 group, 4 state, 5 who, 6 at (ms). A marker exists and no replace →
 * {0, existing id}, nothing written. A plan key that is not a stream →
 * error, nothing written. Else the group on both plan streams from id 0
 * (MKSTREAM; an existing group is kept), the state and its log entry, and
 * the marker, last; reply {1, id}.
 */
export const INIT_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and ARGV[2] ~= '1' then return {0, cur} end
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
return {1, ARGV[1]}
`;

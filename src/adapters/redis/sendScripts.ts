/**
 * Scripts for the later stages of a live order (stage 1 is the commit
 * script's `S` records; docs/architecture.md "Live orders").
 *
 * FINISH (stage 2) — KEYS: 1 the entry's plan stream, 2 result, 3 sends,
 * 4 unknowns; ARGV: 1 group, 2 stream id, 3 field `<lane>:<id>`, 4 result
 * JSON, 5 the send record JSON to keep as an open UNKNOWN, or "" for a final
 * result. Not pending → 0 (duplicate), nothing written; else XADD the
 * result, XACK, HDEL the send record, HSET the open UNKNOWN when asked;
 * reply the result id.
 *
 * RECONCILE — KEYS: 1 result, 2 unknowns; ARGV: 1 field, 2 result JSON. No
 * open UNKNOWN for the field → 0 (duplicate); else XADD the result and HDEL
 * the open UNKNOWN; reply the result id. Deleting the record in the same
 * script as the append is what makes the follow-up once-only.
 */
export const FINISH_LUA = `
local r = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(r) ~= 'table' or r.err or #r == 0 then return 0 end
local id = redis.call('XADD', KEYS[2], '*', 'result', ARGV[4])
redis.call('XACK', KEYS[1], ARGV[1], r[1][1])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[4], ARGV[3], ARGV[5]) end
return id
`;

export const RECONCILE_LUA = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local id = redis.call('XADD', KEYS[1], '*', 'result', ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
return id
`;

import type { CommitOutcome, Decision, DecisionChecks } from "../../core/decision.js";
import { positionKey } from "../../core/facts.js";
import { CONSUMER_GROUP } from "../../ports/bus.js";
import { RATE_TTL_SECONDS, type RedisKeys } from "./redisKeys.js";

/**
 * The commit script: one call commits a whole batch of decisions, in order,
 * each as one atomic step (Redis runs a script without interleaving):
 *
 *   1. `XPENDING <plan stream> <group> <id> <id> 1` empty → `duplicate`, write nothing;
 *   2. every check, in declaration order of `DecisionChecks` → first failing → `conflict`, write nothing;
 *   3. effects, then the DLQ copy, then the result entry, then XACK → `committed` + result id.
 *
 * Fixed KEYS: 1 plan main, 2 plan manual, 3 result, 4 dlq, 5 state,
 * 6 plan_ids, 7 permits, 8 positions; KEYS[9..] are the batch's rate
 * counters. ARGV[1] is the group name, ARGV[2] a JSON array describing the
 * decisions that holds only small integers (indexes into KEYS / ARGV),
 * booleans and the rate limit: every string (ids, plan_ids, decimal values,
 * field bytes, the result JSON made by `JSON.stringify`) travels as its own
 * ARGV, so cjson never decodes nor re-encodes user text and the script never
 * does arithmetic on money.
 *
 * Decision spec (absent keys are omitted, never `null`):
 *   s   plan stream KEYS index (1 main, 2 manual)
 *   id  ARGV index of the entry id;  o  ARGV index of "<lane>:<id>";  r  ARGV index of the result JSON
 *   c   checks:  ts = state ARGV idx | pid = [ARGV idx, claimed] | pm = [ARGV idx, used]
 *                rt = [KEYS idx, limit, allowed] | pos = [field ARGV idx, expected ARGV idx]
 *   e   effects: pid = ARGV idx | pm = ARGV idx | rt = KEYS idx | pos = [field ARGV idx, value ARGV idx]
 *                dlq = [first ARGV idx, count] (name/value pairs, already complete)
 *
 * Returns one reply per decision: {"c", resultId} | {"d"} | {"x", checkName}.
 */
export const COMMIT_LUA = `
local group = ARGV[1]
local spec = cjson.decode(ARGV[2])
local out = {}

local function failing(c)
  if c == nil then return nil end
  if c.ts then
    local s = redis.call('GET', KEYS[5])
    if not s then s = 'ACTIVE' end
    if s ~= ARGV[c.ts] then return 'tradingState' end
  end
  if c.pid then
    local has = redis.call('HEXISTS', KEYS[6], ARGV[c.pid[1]]) == 1
    if has ~= c.pid[2] then return 'planId' end
  end
  if c.pm then
    local has = redis.call('HEXISTS', KEYS[7], ARGV[c.pm[1]]) == 1
    if has ~= c.pm[2] then return 'permit' end
  end
  if c.rt then
    local v = redis.call('GET', KEYS[c.rt[1]])
    local n = 0
    if v then n = tonumber(v) or 0 end
    local allowed = (n + 1) <= c.rt[2]
    if allowed ~= c.rt[3] then return 'rate' end
  end
  if c.pos then
    local v = redis.call('HGET', KEYS[8], ARGV[c.pos[1]])
    if not v then v = '0' end
    if v ~= ARGV[c.pos[2]] then return 'position' end
  end
  return nil
end

for i, d in ipairs(spec) do
  local stream = KEYS[d.s]
  local id = ARGV[d.id]
  local pend = redis.pcall('XPENDING', stream, group, id, id, 1)
  if type(pend) ~= 'table' or pend.err or #pend == 0 then
    out[i] = {'d'}
  else
    local bad = failing(d.c)
    if bad then
      out[i] = {'x', bad}
    else
      local e = d.e
      local owner = ARGV[d.o]
      if e then
        if e.pid then redis.call('HSETNX', KEYS[6], ARGV[e.pid], owner) end
        if e.pm then redis.call('HSET', KEYS[7], ARGV[e.pm], owner) end
        if e.rt then
          redis.call('INCR', KEYS[e.rt])
          redis.call('EXPIRE', KEYS[e.rt], ${RATE_TTL_SECONDS})
        end
        if e.pos then
          local v = ARGV[e.pos[2]]
          if v == '0' then
            redis.call('HDEL', KEYS[8], ARGV[e.pos[1]])
          else
            redis.call('HSET', KEYS[8], ARGV[e.pos[1]], v)
          end
        end
        if e.dlq then
          local args = {KEYS[4], '*'}
          for j = e.dlq[1], e.dlq[1] + e.dlq[2] - 1 do args[#args + 1] = ARGV[j] end
          redis.call('XADD', unpack(args))
        end
      end
      local rid = redis.call('XADD', KEYS[3], '*', 'result', ARGV[d.r])
      redis.call('XACK', stream, group, id)
      out[i] = {'c', rid}
    end
  end
end
return out
`;

/** KEYS and ARGV for one script call. */
export interface CommitCall {
  readonly keys: string[];
  readonly argv: Array<string | Buffer>;
}

type Json = number | boolean | Json[] | { [k: string]: Json };

/** Builds the script's KEYS and ARGV for a batch (see {@link COMMIT_LUA}). */
export function encodeCommit(keys: RedisKeys, decisions: readonly Decision[]): CommitCall {
  const keyList = [
    keys.planMain,
    keys.planManual,
    keys.result,
    keys.dlq,
    keys.state,
    keys.planIds,
    keys.permits,
    keys.positions,
  ];
  const rateIndex = new Map<string, number>();
  const rateKey = (source: string, window: number): number => {
    const k = keys.rate(source, window);
    let i = rateIndex.get(k);
    if (i === undefined) {
      keyList.push(k);
      i = keyList.length; // 1-based
      rateIndex.set(k, i);
    }
    return i;
  };
  // ARGV[1] group, ARGV[2] spec (filled in last)
  const argv: Array<string | Buffer> = [CONSUMER_GROUP, ""];
  const arg = (v: string | Buffer): number => {
    argv.push(v);
    return argv.length; // 1-based
  };

  const spec: Json[] = decisions.map((d) => {
    const c: { [k: string]: Json } = {};
    const ch: DecisionChecks = d.checks;
    if (ch.tradingState !== undefined) c.ts = arg(ch.tradingState);
    if (ch.planId !== undefined) c.pid = [arg(ch.planId.id), ch.planId.claimed];
    if (ch.permit !== undefined) c.pm = [arg(ch.permit.id), ch.permit.used];
    if (ch.rate !== undefined) {
      const { source, window, limit, allowed } = ch.rate;
      if (!Number.isFinite(limit)) throw new RangeError(`commit: rate limit must be finite, got ${limit}`);
      c.rt = [rateKey(source, window), limit, allowed];
    }
    if (ch.position !== undefined) {
      c.pos = [arg(positionKey(ch.position)), arg(ch.position.expected)];
    }

    const e: { [k: string]: Json } = {};
    const ef = d.effects;
    if (ef.claimPlanId !== undefined) e.pid = arg(ef.claimPlanId);
    if (ef.consumePermit !== undefined) e.pm = arg(ef.consumePermit);
    if (ef.countRate !== undefined) e.rt = rateKey(ef.countRate.source, ef.countRate.window);
    if (ef.setPosition !== undefined) {
      e.pos = [arg(positionKey(ef.setPosition)), arg(ef.setPosition.value)];
    }
    if (ef.deadLetter !== undefined) {
      const first = argv.length + 1;
      for (const [name, value] of ef.deadLetter.fields) {
        arg(name);
        arg(value);
      }
      arg("lane");
      arg(d.lane);
      arg("stream_id");
      arg(d.streamId);
      arg("deliveries");
      arg(String(ef.deadLetter.deliveries));
      arg("error");
      arg(d.result.error ?? "");
      e.dlq = [first, argv.length + 1 - first];
    }

    const one: { [k: string]: Json } = {
      s: d.lane === "main" ? 1 : 2,
      id: arg(d.streamId),
      o: arg(`${d.lane}:${d.streamId}`),
      r: arg(JSON.stringify(d.result)),
    };
    if (Object.keys(c).length > 0) one.c = c;
    if (Object.keys(e).length > 0) one.e = e;
    return one;
  });
  argv[1] = JSON.stringify(spec);
  return { keys: keyList, argv };
}

const CHECK_NAMES: ReadonlySet<string> = new Set<keyof DecisionChecks>([
  "tradingState",
  "planId",
  "permit",
  "rate",
  "position",
]);

/** Turns the script's reply into one outcome per decision. */
export function decodeCommit(reply: unknown, expected: number): CommitOutcome[] {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new Error(`commit: unexpected script reply (${describe(reply)}), wanted ${expected} outcomes`);
  }
  return reply.map((r: unknown): CommitOutcome => {
    if (Array.isArray(r)) {
      const [tag, arg] = r.map((x: unknown) => (Buffer.isBuffer(x) ? x.toString("utf8") : x));
      if (tag === "d") return { status: "duplicate" };
      if (tag === "c" && typeof arg === "string") return { status: "committed", resultId: arg };
      if (tag === "x" && typeof arg === "string" && CHECK_NAMES.has(arg)) {
        return { status: "conflict", on: arg as keyof DecisionChecks };
      }
    }
    throw new Error(`commit: unexpected outcome in script reply (${describe(r)})`);
  });
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 200) ?? String(x);
  } catch {
    return String(x);
  }
}

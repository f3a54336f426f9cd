import type { CommitOutcome, Decision, DecisionChecks } from "../../core/decision.js";
import { positionKey } from "../../core/facts.js";
import { CONSUMER_GROUP } from "../../ports/bus.js";
import { RATE_TTL_SECONDS, type RedisKeys } from "./redisKeys.js";

/**
 * The commit script: one call commits a whole batch of decisions, in order,
 * each as one atomic step (Redis runs a script without interleaving).
 *
 * Per decision, in array order, with every read served from tables the
 * script loaded once per call and updated by the decisions committed before
 * it (so a later decision sees an earlier one's writes):
 *
 *   1. not pending in the group → `duplicate`, write nothing;
 *   2. every check, in declaration order of `DecisionChecks` → first failing → `conflict`, write nothing;
 *   3. otherwise `committed`: its effects go into the tables and onto the write lists.
 *
 * Only after the last decision is decided does the script write, in this
 * order: DLQ copies, result entries (in decision order; their ids are the
 * reply), new plan_id claims (one HSET; set-if-absent is decided on the
 * table), permits (one HSET), rate counters (one INCRBY + EXPIRE per key),
 * positions (one HSET, one HDEL), one XACK per lane. What could make a write
 * fail (a key of the wrong type, a rate counter that is not an integer) is
 * caught by the reads or refused before the first write, so a call that
 * fails writes nothing; and since nothing is written before the last check,
 * Redis' out-of-memory refusal (only ever on a script's first write) also
 * leaves nothing half done.
 *
 * Pending check: one `XPENDING <stream> <group> <lo> <hi> <count> <consumer>`
 * per lane (the consumer's own PEL between the batch's lowest and highest
 * id) finds the entries still pending for the consumer that read them. An
 * id not found there (handed to another consumer by a reclaim, no consumer
 * known, or really done) is checked on its own with `XPENDING <stream>
 * <group> <id> <id> 1`, for any consumer, as the contract asks: the consumer
 * name only makes the common case one call, it never changes an outcome.
 * Nothing in this check writes (no XCLAIM: ownership, idle times and
 * delivery counts of entries that conflict stay as they were).
 *
 * Send records (live orders, docs/architecture.md): a decision whose entry
 * has a send record in `sends` conflicts (reply 7) whatever it is; a
 * decision flagged `S` (stage 1 of a live order) carries its send record
 * JSON in place of the result and, once committed, writes it to `sends`
 * instead of appending a result and acknowledging (reply "S").
 *
 * Deployment: before anything else, the marker (KEYS[10]) must hold the id
 * the executor is bound to (ARGV 15); otherwise every decision is a conflict
 * (reply 8) and nothing is read or written (wire-v1 §7b: a Redis that lost
 * its data is never decided against).
 *
 * KEYS: 1 plan main, 2 plan manual, 3 result, 4 dlq, 5 state, 6 plan_ids,
 * 7 permits, 8 positions, 9 sends, 10 the deployment marker, 11.. the batch's
 * rate counters (each once).
 *
 * ARGV (strings; every user string travels as its own argument, so the
 * script never parses JSON and never does arithmetic on money):
 *   1 group   2 consumer ("" = unknown)   3 n (decisions)   4 length of the records
 *   5 nRate (rate checks)   6 nPid   7 nPm   8 nPos (sizes of the lists below)
 *   9 main lo   10 main hi   11 main count   12 manual lo   13 manual hi   14 manual count
 *     (lo/hi "" when the lane has no decision)   15 the deployment id the executor is bound to
 *   16..  the decision records (below), then the rate checks as [KEYS index, limit]
 *   pairs, then every plan_id, permit_id and position field the records name
 *   (each once: the script reads them with one HMGET per hash).
 *
 * A record is a header of 12 one-byte codes read with one `string.byte`,
 * then the stream id, the result JSON, and the values the codes announce,
 * in this order:
 *   1 lane: m main, x manual
 *   2 trading state check: - none, A/R/H ACTIVE/REDUCING/HALTED, * (state follows)
 *   3 plan_id check: - none, u must be unclaimed, c must be claimed (id follows)
 *   4 permit check: - none, u must be unused, c must be used (id follows)
 *   5 rate check: - none, a must be allowed, d must be denied (1-based rate check number follows)
 *   6 position check: - none, 1 (field and expected canonical text follow)
 *   7 claim plan_id: - none, = the checked plan_id, 1 (id follows)
 *   8 consume permit: - none, = the checked permit_id, 1 (id follows)
 *   9 count rate: - none, = the checked counter, 1 (its KEYS index follows)
 *  10 set position: - none, = the checked field, 1 (field follows); then the value ("0" removes it)
 *  11 DLQ copy: - none, 1 (a count, then that many name/value arguments: the
 *     original fields, then lane, stream_id, deliveries, error)
 *  12 stage: - final (the JSON is the result), S send record (the JSON is the record)
 *
 * Reply: one element per decision: the result entry id (a string) when
 * committed ("S" for a committed send record), else an integer: 1 duplicate,
 * 2 tradingState, 3 planId, 4 permit, 5 rate, 6 position (the first failing
 * check), 7 sendRecord, 8 deployment (every decision, when the marker is not
 * the bound one).
 */
export const COMMIT_LUA = `
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
  for i = 1, n do lost[i] = 8 end
  return lost
end
local nRate, nPid, nPm, nPos = tonumber(A[5]), tonumber(A[6]), tonumber(A[7]), tonumber(A[8])
local REC = 16
local rateBase = REC + recLen
local pidBase = rateBase + 2 * nRate
local pmBase = pidBase + nPid
local posBase = pmBase + nPm

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
local rateRaw, rateCount, keyOf = {}, {}, {}
for k = 11, #K do
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
local state = nil
local hasSends = call('EXISTS', K[9]) == 1
local newSends = {}

local out = {}
local comDecision, comResult, comDlq, comSend = {}, {}, {}, {}
local acks = {{}, {}}
local claims = {}
local pmDirty, pmSeen = {}, {}
local posDirty, posSeen = {}, {}
local rateDelta, rateTouched = {}, {}

local p = REC
for i = 1, n do
  local cl, cts, cpid, cpm, crt, cpos, epid, epm, ert, epos, edlq, stage = byte(A[p], 1, 12)
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
    out[i] = 1
  else
    local bad = nil
    local sf = (s == 1 and 'main:' or 'manual:') .. id
    if newSends[sf] or (hasSends and call('HEXISTS', K[9], sf) == 1) then bad = 7 end
    if not bad and ts then
      if state == nil then state = call('GET', K[5]) or 'ACTIVE' end
      if state ~= ts then bad = 2 end
    end
    if not bad and pid then
      local v = pidv[pid]
      if v == nil then return missing('plan_id', pid) end
      if (v ~= false) == (cpid == UNCLAIMED) then bad = 3 end
    end
    if not bad and pm then
      local v = pmv[pm]
      if v == nil then return missing('permit_id', pm) end
      if (v ~= false) == (cpm == UNCLAIMED) then bad = 4 end
    end
    if not bad and rref then
      local k = rateKey[rref]
      if k == nil then return missing('rate check', rref) end
      if (rateCount[k] + 1 <= rateLimit[rref]) ~= (crt == ALLOWED) then bad = 5 end
    end
    if not bad and pf then
      local v = posv[pf]
      if v == nil then return missing('position', pf) end
      if (v or '0') ~= px then bad = 6 end
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
      local c = #comDecision + 1
      comDecision[c] = i
      comResult[c] = ri
      comDlq[c] = dlq or 0
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
      out[i] = 0
    end
  end
end

local function listCall(cmd, key, list)
  for j = 1, #list, CHUNK do call(cmd, key, unpack(list, j, min(#list, j + CHUNK - 1))) end
end

if #comDecision > 0 then
  -- INCRBY must not fail after the first write: refuse a counter that is not an integer now
  for x = 1, #rateTouched do
    local v = rateRaw[rateTouched[x]]
    if v and (#v > 18 or not string.match(v, '^%-?%d+$')) then
      return redis.error_reply('ERR intentgate commit: rate counter ' .. K[rateTouched[x]] .. ' is not an integer')
    end
  end
  for x = 1, #comDecision do
    local d = comDlq[x]
    if d ~= 0 then call('XADD', K[4], '*', unpack(A, d + 1, d + tonumber(A[d]))) end
  end
  for x = 1, #comDecision do
    local sf = comSend[x]
    if sf then
      call('HSET', K[9], sf, A[comResult[x]])
      out[comDecision[x]] = 'S'
    else
      out[comDecision[x]] = call('XADD', K[3], '*', 'result', A[comResult[x]])
    end
  end
  if #claims > 0 then listCall('HSET', K[6], claims) end
  if #pmDirty > 0 then
    local args = {}
    for x = 1, #pmDirty do
      local f = pmDirty[x]
      args[2 * x - 1] = f
      args[2 * x] = pmv[f]
    end
    listCall('HSET', K[7], args)
  end
  for x = 1, #rateTouched do
    local k = rateTouched[x]
    call('INCRBY', K[k], rateDelta[k])
    call('EXPIRE', K[k], ${RATE_TTL_SECONDS})
  end
  if #posDirty > 0 then
    local set, del = {}, {}
    for x = 1, #posDirty do
      local f = posDirty[x]
      local v = posv[f]
      if v then
        set[#set + 1] = f
        set[#set + 1] = v
      else
        del[#del + 1] = f
      end
    end
    if #set > 0 then listCall('HSET', K[8], set) end
    if #del > 0 then listCall('HDEL', K[8], del) end
  end
  for s = 1, 2 do
    local a = acks[s]
    for j = 1, #a, CHUNK do call('XACK', K[s], group, unpack(a, j, min(#a, j + CHUNK - 1))) end
  end
end
return out
`;

/** KEYS and ARGV for one script call. */
export interface CommitCall {
  readonly keys: string[];
  readonly argv: Array<string | Buffer>;
}

/** ARGV slots before the first record. */
const HEADER_SLOTS = 15;
/** Extra rows asked of the per-lane XPENDING beyond the lane's decisions (the consumer may hold a few more in range). */
const PENDING_SLACK = 32;
/** Header codes of the trading states the script knows; any other state travels as text (`*`). */
const STATE_CODES: Readonly<Record<string, string>> = { ACTIVE: "A", REDUCING: "R", HALTED: "H" };

/** Lowest and highest stream id of one lane's decisions, and how many there are. */
class IdRange {
  count = 0;
  lo = "";
  hi = "";
  private loMs = 0;
  private loSeq = 0;
  private hiMs = 0;
  private hiSeq = 0;

  add(id: string): void {
    // Only a hint for the per-lane XPENDING: an id outside the range (or badly formed) is checked on its own.
    const dash = id.indexOf("-");
    const ms = dash < 0 ? Number(id) : Number(id.slice(0, dash));
    const seq = dash < 0 ? 0 : Number(id.slice(dash + 1));
    if (this.count++ === 0) {
      this.lo = this.hi = id;
      this.loMs = this.hiMs = ms;
      this.loSeq = this.hiSeq = seq;
      return;
    }
    if (ms < this.loMs || (ms === this.loMs && seq < this.loSeq)) {
      this.lo = id;
      this.loMs = ms;
      this.loSeq = seq;
    }
    if (ms > this.hiMs || (ms === this.hiMs && seq > this.hiSeq)) {
      this.hi = id;
      this.hiMs = ms;
      this.hiSeq = seq;
    }
  }
}

/**
 * Builds the script's KEYS and ARGV for a batch (see {@link COMMIT_LUA}).
 * `deployment` is the marker id the commit must find; `consumer` is the
 * consumer the entries were most likely handed to ("" when unknown); it only
 * speeds up the pending check.
 */
export function encodeCommit(
  keys: RedisKeys,
  decisions: readonly Decision[],
  opts: { readonly deployment: string; readonly consumer?: string },
): CommitCall {
  const n = decisions.length;
  const keyList = [
    keys.planMain,
    keys.planManual,
    keys.result,
    keys.dlq,
    keys.state,
    keys.planIds,
    keys.permits,
    keys.positions,
    keys.sends,
    keys.deployment,
  ];
  const rateKeys = new Map<string, number>();
  const rateKeyIndex = (source: string, window: number): number => {
    const k = keys.rate(source, window);
    let i = rateKeys.get(k);
    if (i === undefined) {
      i = keyList.push(k); // 1-based KEYS index
      rateKeys.set(k, i);
    }
    return i;
  };
  const rateChecks = new Map<string, string>();
  let lastRate: { source: string; window: number; limit: number; ref: string } | undefined;
  const rateList: string[] = [];
  const pids = new Set<string>();
  const pms = new Set<string>();
  const poss = new Set<string>();
  const main = new IdRange();
  const manual = new IdRange();

  const argv: Array<string | Buffer> = new Array<string>(HEADER_SLOTS).fill("");
  for (let i = 0; i < n; i++) {
    const d = decisions[i]!;
    const ch: DecisionChecks = d.checks;
    const ef = d.effects;
    const isMain = d.lane === "main";
    (isMain ? main : manual).add(d.streamId);
    const at = argv.length;
    argv.push("", d.streamId, JSON.stringify(d.sendRecord ?? d.result));
    let h = isMain ? "m" : "x";

    const ts = ch.tradingState;
    if (ts === undefined) h += "-";
    else {
      const code = STATE_CODES[ts];
      if (code !== undefined) h += code;
      else {
        h += "*";
        argv.push(ts);
      }
    }
    const pc = ch.planId;
    if (pc === undefined) h += "-";
    else {
      h += pc.claimed ? "c" : "u";
      argv.push(pc.id);
      pids.add(pc.id);
    }
    const mc = ch.permit;
    if (mc === undefined) h += "-";
    else {
      h += mc.used ? "c" : "u";
      argv.push(mc.id);
      pms.add(mc.id);
    }
    const rc = ch.rate;
    if (rc === undefined) h += "-";
    else {
      // a batch mostly repeats one source's window and limit: skip the lookups then
      if (
        lastRate === undefined ||
        lastRate.source !== rc.source ||
        lastRate.window !== rc.window ||
        lastRate.limit !== rc.limit
      ) {
        if (!Number.isFinite(rc.limit))
          throw new RangeError(`commit: rate limit must be finite, got ${rc.limit}`);
        const k = rateKeyIndex(rc.source, rc.window);
        const limit = String(rc.limit);
        const pair = `${k}:${limit}`;
        let ref = rateChecks.get(pair);
        if (ref === undefined) {
          rateList.push(String(k), limit);
          ref = String(rateList.length / 2);
          rateChecks.set(pair, ref);
        }
        lastRate = { source: rc.source, window: rc.window, limit: rc.limit, ref };
      }
      h += rc.allowed ? "a" : "d";
      argv.push(lastRate.ref);
    }
    const pos = ch.position;
    let posField: string | undefined;
    if (pos === undefined) h += "-";
    else {
      posField = positionKey(pos);
      h += "1";
      argv.push(posField, pos.expected);
      poss.add(posField);
    }

    const claim = ef.claimPlanId;
    if (claim === undefined) h += "-";
    else if (pc !== undefined && pc.id === claim) h += "=";
    else {
      h += "1";
      argv.push(claim);
      pids.add(claim);
    }
    const consume = ef.consumePermit;
    if (consume === undefined) h += "-";
    else if (mc !== undefined && mc.id === consume) h += "=";
    else {
      h += "1";
      argv.push(consume);
      pms.add(consume);
    }
    const cr = ef.countRate;
    if (cr === undefined) h += "-";
    else if (rc !== undefined && rc.source === cr.source && rc.window === cr.window) h += "=";
    else {
      h += "1";
      argv.push(String(rateKeyIndex(cr.source, cr.window)));
    }
    const sp = ef.setPosition;
    if (sp === undefined) h += "-";
    else {
      if (posField !== undefined && pos!.account === sp.account && pos!.symbol === sp.symbol) h += "=";
      else {
        const field = positionKey(sp);
        h += "1";
        argv.push(field);
        poss.add(field);
      }
      argv.push(sp.value);
    }
    const dl = ef.deadLetter;
    if (dl === undefined) h += "-";
    else {
      h += "1";
      argv.push(String(2 * dl.fields.length + 8));
      for (const [name, value] of dl.fields) argv.push(name, value);
      argv.push(
        "lane",
        d.lane,
        "stream_id",
        d.streamId,
        "deliveries",
        String(dl.deliveries),
        "error",
        d.result.error ?? "",
      );
    }
    h += d.sendRecord ? "S" : "-";
    argv[at] = h;
  }
  const recLen = argv.length - HEADER_SLOTS;
  for (const x of rateList) argv.push(x);
  for (const x of pids) argv.push(x);
  for (const x of pms) argv.push(x);
  for (const x of poss) argv.push(x);

  argv[0] = CONSUMER_GROUP;
  argv[1] = opts.consumer ?? "";
  argv[2] = String(n);
  argv[3] = String(recLen);
  argv[4] = String(rateList.length / 2);
  argv[5] = String(pids.size);
  argv[6] = String(pms.size);
  argv[7] = String(poss.size);
  argv[8] = main.lo;
  argv[9] = main.hi;
  argv[10] = String(main.count + PENDING_SLACK);
  argv[11] = manual.lo;
  argv[12] = manual.hi;
  argv[13] = String(manual.count + PENDING_SLACK);
  argv[14] = opts.deployment;
  return { keys: keyList, argv };
}

/** Conflict codes of the script's reply (2..8), in declaration order of `DecisionChecks`, then the send record and the deployment. */
const CONFLICTS: ReadonlyArray<keyof DecisionChecks | "sendRecord" | "deployment"> = [
  "tradingState",
  "planId",
  "permit",
  "rate",
  "position",
  "sendRecord",
  "deployment",
];

/** Turns the script's reply into one outcome per decision. */
export function decodeCommit(reply: unknown, expected: number): CommitOutcome[] {
  if (!Array.isArray(reply) || reply.length !== expected) {
    throw new Error(`commit: unexpected script reply (${describe(reply)}), wanted ${expected} outcomes`);
  }
  const out: CommitOutcome[] = new Array(expected);
  for (let i = 0; i < expected; i++) {
    const r: unknown = reply[i];
    if (r === "S" || (Buffer.isBuffer(r) && r.length === 1 && r[0] === 0x53))
      out[i] = { status: "committed", resultId: "" };
    else if (typeof r === "string" && r.length > 0) out[i] = { status: "committed", resultId: r };
    else if (Buffer.isBuffer(r) && r.length > 0)
      out[i] = { status: "committed", resultId: r.toString("utf8") };
    else if (r === 1) out[i] = { status: "duplicate" };
    else if (typeof r === "number" && r >= 2 && r <= 8 && Number.isInteger(r))
      out[i] = { status: "conflict", on: CONFLICTS[r - 2]! };
    else throw new Error(`commit: unexpected outcome in script reply (${describe(r)})`);
  }
  return out;
}

function describe(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 200) ?? String(x);
  } catch {
    return String(x);
  }
}

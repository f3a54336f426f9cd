import { dailyKey } from "../../core/dailyNotional.js";
import type { Decision, DecisionChecks } from "../../core/decision.js";
import { exposureTouches } from "../../core/exposure.js";
import { positionKey } from "../../core/facts.js";
import { encodeWorkingOrder } from "../../core/workingOrder.js";
import { CONSUMER_GROUP } from "../../ports/bus.js";
import type { ScriptCall } from "./luaScripts.js";
import type { RedisKeys } from "./redisKeys.js";
import { orderedArgs, SCRIPT_INPUTS } from "./scriptInputs.js";
import { StreamIdRange } from "./streamIdRange.js";

/** Extra rows asked of the per-lane XPENDING beyond the lane's decisions (the consumer may hold a few more in range). */
const PENDING_SLACK = 32;
/** Header codes of the trading states the script knows; any other state travels as text (`*`). */
const STATE_CODES: Readonly<Record<string, string>> = { ACTIVE: "A", REDUCING: "R", HALTED: "H" };

/** What {@link buildCommitCall} needs. */
export interface CommitCallOptions {
  readonly keys: RedisKeys;
  readonly decisions: readonly Decision[];
  /** The deployment marker id the commit must find. */
  readonly deployment: string;
  /** The consumer the entries were most likely handed to ("" or absent: unknown); only speeds up the pending check. */
  readonly consumer?: string;
}

/**
 * Builds the commit script's KEYS and ARGV for a batch (lua/commit.lua,
 * "Input"): the fixed slots from `SCRIPT_INPUTS.commit`, then the batch's
 * rate counters (KEYS) and its decision records, rate checks and the ids and
 * fields they name (ARGV). Throws RangeError on a rate limit that is not finite.
 */
export function buildCommitCall(opts: CommitCallOptions): ScriptCall {
  const { keys, decisions } = opts;
  const input = SCRIPT_INPUTS.commit;
  const keyList = orderedArgs(input.keys, {
    planMain: keys.planMain,
    planManual: keys.planManual,
    result: keys.result,
    dlq: keys.dlq,
    state: keys.state,
    planIds: keys.planIds,
    permits: keys.permits,
    positions: keys.positions,
    sends: keys.sends,
    deployment: keys.deployment,
    orders: keys.orders,
    orderEvent: keys.orderEvent,
    unknowns: keys.unknowns,
    daily: keys.daily,
    booksReady: keys.booksReady,
  });
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
  const ords = new Set<string>();
  const days = new Set<string>();
  let countOpen = false;
  const main = new StreamIdRange();
  const manual = new StreamIdRange();
  // duplicate-order marks: `duplicateKeyOf` key -> its number (1-based) among the marks at the end of KEYS
  const dups = new Map<string, number>();
  const dupNumber = (key: string): string => {
    let x = dups.get(key);
    if (x === undefined) {
      x = dups.size + 1;
      dups.set(key, x);
    }
    return String(x);
  };

  // exposure checks: account -> [its number (1-based), its books' version]; touches are sent only when one is checked
  const exposureChecks = new Map<string, [number, string]>();
  const checksExposure = decisions.some((d) => d.checks.exposure !== undefined);

  let lastMark: { readonly at: number; readonly ttlMs: number } | undefined;
  // the records: one per decision (lua/commit.lua, "A record is …")
  const records: Array<string | Buffer> = [];
  for (const d of decisions) {
    const ch: DecisionChecks = d.checks;
    const ef = d.effects;
    const isMain = d.lane === "main";
    (isMain ? main : manual).add(d.streamId);
    const at = records.length;
    records.push("", d.streamId, JSON.stringify(d.sendRecord ?? d.result));
    let h = isMain ? "m" : "x";

    const ts = ch.tradingState;
    if (ts === undefined) h += "-";
    else {
      const code = STATE_CODES[ts];
      if (code !== undefined) h += code;
      else {
        h += "*";
        records.push(ts);
      }
    }
    const pc = ch.planId;
    if (pc === undefined) h += "-";
    else {
      h += pc.claimed ? "c" : "u";
      records.push(pc.id);
      pids.add(pc.id);
    }
    const mc = ch.permit;
    if (mc === undefined) h += "-";
    else {
      h += mc.used ? "c" : "u";
      records.push(mc.id);
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
      records.push(lastRate.ref);
    }
    const pos = ch.position;
    let posField: string | undefined;
    if (pos === undefined) h += "-";
    else {
      posField = positionKey(pos);
      h += "1";
      records.push(posField, pos.expected);
      poss.add(posField);
    }

    const claim = ef.claimPlanId;
    if (claim === undefined) h += "-";
    else if (pc !== undefined && pc.id === claim) h += "=";
    else {
      h += "1";
      records.push(claim);
      pids.add(claim);
    }
    const consume = ef.consumePermit;
    if (consume === undefined) h += "-";
    else if (mc !== undefined && mc.id === consume) h += "=";
    else {
      h += "1";
      records.push(consume);
      pms.add(consume);
    }
    const cr = ef.countRate;
    if (cr === undefined) h += "-";
    else if (rc !== undefined && rc.source === cr.source && rc.window === cr.window) h += "=";
    else {
      h += "1";
      records.push(String(rateKeyIndex(cr.source, cr.window)));
    }
    const sp = ef.setPosition;
    if (sp === undefined) h += "-";
    else {
      // `=` only for the very field checked (the same book: account, symbol, venue and mode)
      const field = positionKey(sp);
      if (field === posField) h += "=";
      else {
        h += "1";
        records.push(field);
        poss.add(field);
      }
      records.push(sp.value);
    }
    const dl = ef.deadLetter;
    if (dl === undefined) h += "-";
    else {
      h += "1";
      records.push(String(2 * dl.fields.length + 8));
      for (const [name, value] of dl.fields) records.push(name, value);
      records.push(
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
    h += pushWorkingOrders(d, records, ords);
    const dc = ch.duplicate;
    if (dc === undefined) h += "-";
    else {
      h += "1";
      records.push(dupNumber(dc.key), dc.expected ?? "");
    }
    const md = ef.markDuplicate;
    if (md === undefined) h += "-";
    else {
      if (!Number.isSafeInteger(md.ttlMs) || md.ttlMs <= 0)
        throw new RangeError(`commit: duplicate window must be a positive integer, got ${md.ttlMs}`);
      // a batch's marks share their time and window: after the first, `=` says "the checked mark, as the last"
      if (dc?.key === md.key && lastMark?.at === md.at && lastMark.ttlMs === md.ttlMs) h += "=";
      else {
        h += "1";
        records.push(dupNumber(md.key), String(md.at), String(md.ttlMs));
        lastMark = md;
      }
    }
    h += pushAccountCaps(d, records, days);
    if (ch.openOrders !== undefined) countOpen = true;
    h += pushExposure(d, records, exposureChecks, checksExposure);
    records[at] = h;
  }
  // the marks come after every rate counter in KEYS
  for (const key of dups.keys()) keyList.push(keys.duplicate(key));

  const argv: Array<string | Buffer> = orderedArgs(input.argv, {
    group: CONSUMER_GROUP,
    consumer: opts.consumer ?? "",
    decisions: String(decisions.length),
    recordsLength: String(records.length),
    rateChecks: String(rateList.length / 2),
    planIds: String(pids.size),
    permitIds: String(pms.size),
    positionFields: String(poss.size),
    mainLo: main.lo,
    mainHi: main.hi,
    mainCount: String(main.count + PENDING_SLACK),
    manualLo: manual.lo,
    manualHi: manual.hi,
    manualCount: String(manual.count + PENDING_SLACK),
    deployment: opts.deployment,
    orderKeys: String(ords.size),
    dupKeys: String(dups.size),
    dailyFields: String(days.size),
    openOrders: countOpen ? "1" : "",
    exposureAccounts: String(exposureChecks.size),
    booksPrefix: keys.booksPrefix,
  });
  for (const x of records) argv.push(x);
  for (const x of rateList) argv.push(x);
  for (const x of pids) argv.push(x);
  for (const x of pms) argv.push(x);
  for (const x of poss) argv.push(x);
  for (const x of ords) argv.push(x);
  for (const x of days) argv.push(x);
  for (const [account, [, version]] of exposureChecks) argv.push(account, version);
  return { keys: keyList, argv };
}

/**
 * Header codes 22-23 of a decision's record (lua/commit.lua: exposure
 * check, touches exposure): pushes the values they announce onto `records`,
 * numbers each account's books version once in `exposureChecks`, and returns the two
 * codes. Touches are sent only when `touches` (some record checks exposure);
 * `=` when the one account touched is the one checked.
 * Throws RangeError when a check carries no version, or one batch two versions of an account's books.
 */
function pushExposure(
  d: Decision,
  records: Array<string | Buffer>,
  exposureChecks: Map<string, [number, string]>,
  touches: boolean,
): string {
  let h = "";
  const x = d.checks.exposure;
  if (x === undefined) h += "-";
  else {
    // the commit compares the books' version, never nothing: a check read without one is refused here
    if (x.version === undefined)
      throw new RangeError(`commit: the exposure check of account ${x.account} carries no books version`);
    let entry = exposureChecks.get(x.account);
    if (entry === undefined) {
      entry = [exposureChecks.size + 1, x.version];
      exposureChecks.set(x.account, entry);
    } else if (entry[1] !== x.version)
      throw new RangeError(`commit: two versions of account ${x.account}'s books in one batch`);
    h += "1";
    records.push(String(entry[0]), String(x.touched));
  }
  const touched = touches ? exposureTouches(d) : [];
  if (touched.length === 0) h += "-";
  else if (touched.length === 1 && touched[0] === x?.account) h += "=";
  else {
    h += "1";
    records.push(String(touched.length), ...touched);
  }
  return h;
}

/**
 * Header codes 19-21 of a decision's record (lua/commit.lua: daily-notional
 * check, set daily notional, open-order check): pushes the values they
 * announce onto `records`, adds every daily field named to `fields`, and
 * returns the three codes. Throws RangeError on an open-order limit that is
 * not a positive integer.
 */
function pushAccountCaps(d: Decision, records: Array<string | Buffer>, fields: Set<string>): string {
  let h = "";
  const check = d.checks.dailyNotional;
  let checkField: string | undefined;
  if (check === undefined) h += "-";
  else {
    checkField = dailyKey(check);
    h += "1";
    records.push(checkField, check.expected);
    fields.add(checkField);
  }
  const set = d.effects.setDailyNotional;
  if (set === undefined) h += "-";
  else {
    const field = dailyKey(set);
    if (field === checkField) h += "=";
    else {
      h += "1";
      records.push(field);
      fields.add(field);
    }
    records.push(set.value);
  }
  const open = d.checks.openOrders;
  if (open === undefined) h += "-";
  else {
    if (!Number.isSafeInteger(open.limit) || open.limit <= 0)
      throw new RangeError(`commit: open-order limit must be a positive integer, got ${open.limit}`);
    h += open.allowed ? "a" : "d";
    records.push(open.account, String(open.limit));
  }
  return h;
}

/**
 * Header codes 13-16 of a decision's record (lua/commit.lua: working-order
 * checks, open order, close orders, order events): pushes the values they
 * announce onto `records`, adds every order key named to `keys`, and returns
 * the four codes.
 */
function pushWorkingOrders(d: Decision, records: Array<string | Buffer>, keys: Set<string>): string {
  let h = "";
  const checks = d.checks.workingOrders ?? [];
  if (checks.length === 0) h += "-";
  else {
    h += "1";
    records.push(String(checks.length));
    for (const c of checks) {
      records.push(c.key, c.expected === null ? "a" : "p", c.expected ?? "");
      keys.add(c.key);
    }
  }
  const open = d.effects.openOrder;
  if (open === undefined) h += "-";
  else {
    h += "1";
    records.push(open.key, encodeWorkingOrder(open));
    keys.add(open.key);
  }
  const close = d.effects.closeOrders ?? [];
  if (close.length === 0) h += "-";
  else {
    h += "1";
    records.push(String(close.length));
    for (const key of close) {
      records.push(key);
      keys.add(key);
    }
  }
  const events = d.effects.orderEvents ?? [];
  if (events.length === 0) h += "-";
  else {
    h += "1";
    records.push(String(events.length));
    for (const e of events) records.push(JSON.stringify(e));
  }
  return h;
}

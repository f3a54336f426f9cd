import { type Redis, ReplyError } from "ioredis";
import { dailyKey } from "../../core/dailyNotional.js";
import { parseDecimal } from "../../core/decimal.js";
import type { CommitOutcome, Decision } from "../../core/decision.js";
import { type AccountExposure, exposureFromSnapshot } from "../../core/exposure.js";
import {
  type EntryRef,
  type Facts,
  type FactsQuery,
  parsePositionKey,
  positionKey,
  rateKey,
} from "../../core/facts.js";
import { sendKey } from "../../core/liveOrder.js";
import { type OpenRecord, parseOpenRecord, recordVenue } from "../../core/openRecord.js";
import { TRADING_STATES, type TradingState, type VenueName } from "../../core/plan.js";
import type { PlanResult } from "../../core/result.js";
import { encodeWorkingOrder, type WorkingOrder } from "../../core/workingOrder.js";
import { CONSUMER_GROUP } from "../../ports/bus.js";
import {
  CommitRefusedError,
  type LeaseRequest,
  type Ledger,
  type LedgerPosition,
  type LiveFinish,
  type LiveFinishOutcome,
  type OrderEventEntry,
  type OrderUpdate,
  type TradingStateChange,
} from "../../ports/ledger.js";
import { buildCommitCall } from "./commitArgs.js";
import { decodeCommitReply } from "./commitReply.js";
import { REPLY_CODES } from "./conflictCodes.js";
import { runScript, type ScriptCall } from "./luaScripts.js";
import { type AccountBooks, buildBooks, queueBooksReads, readBooksReplies } from "./redisBooks.js";
import type { RedisDeployment } from "./redisDeployment.js";
import type { RedisKeys } from "./redisKeys.js";
import {
  buildUpdateOrdersCall,
  decodeUpdateOrdersReply,
  listOrders,
  ordersFromReplies,
  parseOrderEvents,
} from "./redisOrders.js";
import { asArray, parseState } from "./redisReplies.js";
import { scriptArgs } from "./scriptInputs.js";
import { decodeSendReply } from "./sendReplies.js";

/** The books of an account that has none. */
const NO_BOOKS: AccountBooks = { entries: new Map(), version: "", openOrders: 0 };

/** What {@link RedisLedger} is built from. */
export interface RedisLedgerOptions {
  /** The shared command connection, with the scripts defined on it (luaScripts.ts `defineScripts`). */
  readonly conn: Redis;
  readonly keys: RedisKeys;
  /** The marker every ledger write checks atomically (wire-v1 §7b). */
  readonly deployment: RedisDeployment;
  /** The consumer that most likely holds a batch's entries ("" when unknown): only speeds up the commit's pending check. */
  readonly consumerHint: () => string;
}

/**
 * The Redis {@link Ledger} (docs/architecture.md "Redis layout"): facts read
 * in one pipeline, and every write in one Lua script that first checks the
 * deployment marker: lua/commit.lua (a batch of decisions),
 * lua/finishSend.lua and lua/reconcile.lua (the later stages of a live order),
 * lua/updateOrders.lua (working orders after their result; redisOrders.ts).
 */
export class RedisLedger implements Ledger {
  private readonly main: Redis;
  private readonly keys: RedisKeys;
  private readonly deployment: RedisDeployment;
  private readonly consumerHint: () => string;

  constructor(opts: RedisLedgerOptions) {
    this.main = opts.conn;
    this.keys = opts.keys;
    this.deployment = opts.deployment;
    this.consumerHint = opts.consumerHint;
  }

  readFacts(query: FactsQuery): Promise<Facts> {
    return this.#readFacts(query, false);
  }

  /** {@link readFacts}; `built`: the accounts' books were just built (a second miss throws). */
  async #readFacts(query: FactsQuery, built: boolean): Promise<Facts> {
    const k = this.keys;
    const p = this.main.pipeline();
    p.call("GET", k.state);
    if (query.planIds.length > 0) p.call("HMGET", k.planIds, ...query.planIds);
    if (query.permitIds.length > 0) p.call("HMGET", k.permits, ...query.permitIds);
    if (query.rates.length > 0) p.call("MGET", ...query.rates.map((r) => k.rate(r.source, r.window)));
    const posFields = query.positions.map(positionKey);
    if (posFields.length > 0) p.call("HMGET", k.positions, ...posFields);
    const sendRefs = query.sendRecords ?? [];
    const sendFields = sendRefs.map(sendKey);
    if (sendFields.length > 0) p.call("HMGET", k.sends, ...sendFields);
    const orderKeys = query.orderKeys ?? [];
    if (orderKeys.length > 0) p.call("HMGET", k.orders, ...orderKeys);
    const dupKeys = query.duplicates ?? [];
    if (dupKeys.length > 0) p.call("MGET", ...dupKeys.map((d) => k.duplicate(d)));
    const dailyRefs = query.dailyNotional ?? [];
    const dailyFields = dailyRefs.map(dailyKey);
    if (dailyFields.length > 0) p.call("HMGET", k.daily, ...dailyFields);
    // Cancel-all scopes read every working order, filtered by inScope (redisOrders.ts
    // ordersFromReplies says why); the open-order count and exposure read the accounts' books.
    const orderScopes = query.orderScopes ?? [];
    if (orderScopes.length > 0) p.call("HGETALL", k.orders);
    const openAccounts = query.openOrderAccounts ?? [];
    const exposureAccounts = query.exposureAccounts ?? [];
    // the exposure caps need an account's books whole; the open-order cap alone needs their count
    const whole = new Set(exposureAccounts);
    const booksQuery = {
      whole: [...whole],
      counted: [...new Set(openAccounts)].filter((a) => !whole.has(a)),
    };
    const readsBooks = booksQuery.whole.length + booksQuery.counted.length > 0;
    if (readsBooks) queueBooksReads(p, k, booksQuery);
    const replies = (await p.exec()) ?? [];
    let i = 0;
    const next = (): unknown => {
      const r = replies[i++];
      if (r === undefined) throw new Error("redis: readFacts pipeline reply missing");
      if (r[0] !== null) throw r[0];
      return r[1];
    };
    const tradingState = parseState(next());

    const claimedPlanIds = new Set<string>();
    if (query.planIds.length > 0) {
      const vals = asArray(next(), "HMGET plan_ids");
      for (let j = 0; j < query.planIds.length; j++) {
        if (vals[j] !== null && vals[j] !== undefined) claimedPlanIds.add(query.planIds[j]!);
      }
    }
    const usedPermitIds = new Set<string>();
    if (query.permitIds.length > 0) {
      const vals = asArray(next(), "HMGET permits");
      for (let j = 0; j < query.permitIds.length; j++) {
        if (vals[j] !== null && vals[j] !== undefined) usedPermitIds.add(query.permitIds[j]!);
      }
    }
    const rateCounts = new Map<string, number>();
    if (query.rates.length > 0) {
      const vals = asArray(next(), "MGET rate");
      for (let j = 0; j < query.rates.length; j++) {
        const v = vals[j];
        rateCounts.set(rateKey(query.rates[j]!), v === null || v === undefined ? 0 : Number(v));
      }
    }
    const positions = new Map<string, string>();
    if (query.positions.length > 0) {
      const vals = asArray(next(), "HMGET positions");
      for (let j = 0; j < posFields.length; j++) {
        const v = vals[j];
        if (v !== null && v !== undefined && String(v) !== "0") positions.set(posFields[j]!, String(v));
      }
    }
    const sendRecords = new Map<string, OpenRecord>();
    if (sendFields.length > 0) {
      const vals = asArray(next(), "HMGET sends");
      for (let j = 0; j < sendFields.length; j++) {
        const v = vals[j];
        if (v === null || v === undefined) continue;
        const record = parseOpenRecord(String(v));
        if (!record) throw new Error(`redis: malformed send record for ${sendFields[j]}`);
        sendRecords.set(sendFields[j]!, record);
      }
    }
    const byKey = orderKeys.length > 0 ? next() : undefined;
    const duplicates = new Map<string, string>();
    if (dupKeys.length > 0) {
      const vals = asArray(next(), "MGET duplicate");
      for (let j = 0; j < dupKeys.length; j++) {
        const v = vals[j];
        if (v !== null && v !== undefined) duplicates.set(dupKeys[j]!, String(v));
      }
    }
    const dailyNotional = new Map<string, string>();
    if (dailyFields.length > 0) {
      const vals = asArray(next(), "HMGET daily");
      for (let j = 0; j < dailyFields.length; j++) {
        const v = vals[j];
        if (v !== null && v !== undefined && String(v) !== "0") dailyNotional.set(dailyFields[j]!, String(v));
      }
    }
    const allOrders = orderScopes.length > 0 ? next() : undefined;
    const workingOrders = ordersFromReplies(orderKeys, byKey, orderScopes, allOrders);
    const books = readsBooks ? readBooksReplies(next, booksQuery) : new Map<string, AccountBooks>();
    if (books === undefined) {
      // books not built yet (a deployment older than them, or a lost marker): build them, read again
      if (built) throw new Error("redis: the accounts' books are still not built after building them");
      await buildBooks(this.main, k, this.deployment.requireBound());
      return this.#readFacts(query, true);
    }
    const bookOf = (a: string): AccountBooks => books.get(a) ?? NO_BOOKS;
    const openOrders = new Map(openAccounts.map((a) => [a, bookOf(a).openOrders]));
    const exposure = new Map<string, AccountExposure>(
      exposureAccounts.map((a) => {
        const { entries, version } = bookOf(a);
        return [a, exposureFromSnapshot(a, entries, version)];
      }),
    );
    return {
      tradingState,
      exposure,
      dailyNotional,
      openOrders,
      claimedPlanIds,
      usedPermitIds,
      rateCounts,
      positions,
      sendRecords,
      workingOrders,
      duplicates,
    };
  }

  async finishSend(
    record: OpenRecord,
    result: PlanResult,
    finish: LiveFinish = {},
  ): Promise<LiveFinishOutcome> {
    const bound = this.deployment.requireBound();
    const k = this.keys;
    const call = scriptArgs("finishSend", {
      keys: {
        planStream: k.plan(record.lane),
        result: k.result,
        sends: k.sends,
        unknowns: k.unknowns,
        deployment: k.deployment,
        orders: k.orders,
        positions: k.positions,
      },
      argv: {
        group: CONSUMER_GROUP,
        streamId: record.streamId,
        field: sendKey(record),
        result: JSON.stringify(result),
        unknown: result.decision === "UNKNOWN" ? JSON.stringify(record) : "",
        deployment: bound,
        ...finishArgs(finish),
        booksPrefix: k.booksPrefix,
      },
    });
    return decodeSendReply("finishSend", await runScript(this.main, "finishSend", call), bound);
  }

  async reconcile(entry: EntryRef, result: PlanResult, finish: LiveFinish = {}): Promise<LiveFinishOutcome> {
    const bound = this.deployment.requireBound();
    const k = this.keys;
    const call = scriptArgs("reconcile", {
      keys: {
        result: k.result,
        unknowns: k.unknowns,
        deployment: k.deployment,
        orders: k.orders,
        positions: k.positions,
      },
      argv: {
        field: sendKey(entry),
        result: JSON.stringify(result),
        deployment: bound,
        ...finishArgs(finish),
        booksPrefix: k.booksPrefix,
      },
    });
    return decodeSendReply("reconcile", await runScript(this.main, "reconcile", call), bound);
  }

  async holdLease(lease: LeaseRequest): Promise<boolean> {
    const call = scriptArgs("holdLease", {
      keys: { lease: this.keys.lease(lease.name) },
      argv: { owner: lease.owner, ttlMs: String(Math.ceil(lease.ttlMs)) },
    });
    return Number(await runScript(this.main, "holdLease", call)) === REPLY_CODES.holdLease.held.code;
  }

  async workingOrders(venue?: VenueName): Promise<WorkingOrder[]> {
    return listOrders(await this.main.call("HGETALL", this.keys.orders), venue);
  }

  async updateOrders(updates: readonly OrderUpdate[]): Promise<("applied" | "conflict")[]> {
    const bound = this.deployment.requireBound();
    const call = buildUpdateOrdersCall(this.keys, updates, bound);
    return decodeUpdateOrdersReply(await runScript(this.main, "updateOrders", call), updates.length, bound);
  }

  async readOrderEvents(afterId: string, count: number): Promise<OrderEventEntry[]> {
    if (count <= 0) return [];
    return parseOrderEvents(
      await this.main.call("XREAD", "COUNT", Math.ceil(count), "STREAMS", this.keys.orderEvent, afterId),
    );
  }

  async lastOrderEventId(): Promise<string> {
    const reply = asArray(
      await this.main.call("XREVRANGE", this.keys.orderEvent, "+", "-", "COUNT", 1),
      "XREVRANGE",
    );
    const [newest] = reply;
    return newest === undefined ? "0" : String(asArray(newest, "XREVRANGE entry")[0]);
  }

  async openUnknowns(venue?: VenueName): Promise<OpenRecord[]> {
    const all = await this.#records(this.keys.unknowns, "open UNKNOWN");
    return all.filter((r) => venue === undefined || recordVenue(r) === venue);
  }

  sendsInFlight(): Promise<OpenRecord[]> {
    return this.#records(this.keys.sends, "send record");
  }

  /** Every record in one hash (`sends` or `unknowns`), oldest first. */
  async #records(key: string, what: string): Promise<OpenRecord[]> {
    const flat = asArray(await this.main.call("HGETALL", key), `HGETALL ${what}`);
    const out: OpenRecord[] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const record = parseOpenRecord(String(flat[j + 1]));
      if (!record) throw new Error(`redis: malformed ${what} for ${String(flat[j])}`);
      out.push(record);
    }
    return out.sort((a, b) => a.startedAt - b.startedAt);
  }

  async commit(decisions: readonly Decision[]): Promise<CommitOutcome[]> {
    if (decisions.length === 0) return [];
    const deployment = this.deployment.bound;
    if (deployment === undefined) return decisions.map(() => ({ status: "conflict", on: "deployment" }));
    let call: ScriptCall;
    try {
      call = buildCommitCall({ keys: this.keys, decisions, deployment, consumer: this.consumerHint() });
    } catch (err) {
      throw new CommitRefusedError(`commit: cannot encode the batch: ${(err as Error).message}`, {
        cause: err,
      });
    }
    let reply: unknown;
    try {
      reply = await runScript(this.main, "commit", call);
    } catch (err) {
      // `ERR …` is the script (or Redis) refusing this input; LOADING, READONLY, BUSY, OOM and
      // connection failures are the server's state, which a retry of the same batch may outlive.
      if (err instanceof ReplyError && /^ERR\b/.test((err as Error).message))
        throw new CommitRefusedError(`commit: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    return decodeCommitReply(reply, decisions.length);
  }

  async getTradingState(): Promise<TradingState> {
    return parseState(await this.main.call("GET", this.keys.state));
  }

  async setTradingState(state: TradingState, who: string): Promise<void> {
    if (!TRADING_STATES.includes(state)) throw new RangeError(`unknown trading state "${String(state)}"`);
    const at = Date.now();
    const results = await this.main
      .multi()
      .call("SET", this.keys.state, state)
      .call("XADD", this.keys.stateLog, "*", "state", state, "who", who, "at", String(at))
      .exec();
    for (const [err] of results ?? []) if (err !== null) throw err;
  }

  async tradingStateLog(): Promise<TradingStateChange[]> {
    const reply = await this.main.call("XRANGE", this.keys.stateLog, "-", "+");
    const out: TradingStateChange[] = [];
    for (const item of asArray(reply, "XRANGE")) {
      const [, flat] = asArray(item, "XRANGE entry");
      if (flat === null) continue;
      const f = new Map<string, string>();
      const fields = asArray(flat, "XRANGE fields");
      for (let j = 0; j + 1 < fields.length; j += 2) f.set(String(fields[j]), String(fields[j + 1]));
      const state = f.get("state") as TradingState;
      if (!TRADING_STATES.includes(state)) continue;
      out.push({ state, who: f.get("who") ?? "", at: Number(f.get("at") ?? 0) });
    }
    return out;
  }

  /**
   * Every non-zero position. A field that is not a position's, or a value
   * that is not a signed decimal, is corrupt shared state: it throws, naming
   * the field, rather than leaving a position out of what callers (the CLI,
   * the watcher, the paper follower) see.
   */
  async positions(): Promise<LedgerPosition[]> {
    const flat = asArray(await this.main.call("HGETALL", this.keys.positions), "HGETALL");
    const out: LedgerPosition[] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const field = String(flat[j]);
      const qty = String(flat[j + 1]);
      const ref = parsePositionKey(field);
      if (ref === undefined || parseDecimal(qty, { signed: true }) === undefined)
        throw new Error(`ledger holds a malformed position: field ${JSON.stringify(field.slice(0, 120))}`);
      if (qty !== "0") out.push({ ...ref, qty });
    }
    return out;
  }
}

/** What a live result writes with it, as the finishSend/reconcile scripts take it ("" for none). */
function finishArgs(finish: LiveFinish): {
  orderKey: string;
  orderText: string;
  posField: string;
  posExpected: string;
  posValue: string;
} {
  const { resting, position } = finish;
  return {
    orderKey: resting?.key ?? "",
    orderText: resting === undefined ? "" : encodeWorkingOrder(resting),
    posField: position === undefined ? "" : positionKey(position),
    posExpected: position?.expected ?? "",
    posValue: position?.value ?? "",
  };
}

import type { CommitOutcome, Decision } from "../core/decision.js";
import type { EntryRef, Facts, FactsQuery, PositionMove, PositionRef } from "../core/facts.js";
import type { OpenRecord } from "../core/openRecord.js";
import type { OrderEvent } from "../core/orderEvent.js";
import type { OrderUpdate } from "../core/orderUpdate.js";
import type { TradingState, VenueName } from "../core/plan.js";
import type { PlanResult } from "../core/result.js";
import type { WorkingOrder } from "../core/workingOrder.js";

/**
 * How long a source's rate counter for one one-second window lives after its
 * last increment, on every backend: long enough for any batch deciding in
 * that window to read it, short enough that counters do not pile up.
 */
export const RATE_COUNTER_TTL_MS = 10_000;

/**
 * The ledger: shared decision state on the bus backend (trading state,
 * claimed plan_ids, consumed permits, rate counters, paper positions) and the
 * one atomic step that commits a decision.
 *
 * Contract every adapter keeps for {@link Ledger.commit}, per decision and as
 * one atomic step (one SQLite transaction; one Lua script on Redis, with every
 * check before the first write): if the entry is no longer pending in the
 * group, it already has its result: report `duplicate` and write nothing;
 * else if any of `decision.checks` no longer holds, report `conflict` and
 * write nothing; else apply `decision.effects`, append `decision.result` to
 * the result stream (and the DLQ copy), and acknowledge the entry.
 * Decisions are committed in array order, so a later one sees the earlier
 * ones' writes. Every decision also conflicts (`on: "sendRecord"`) when its
 * entry has a send record. A decision carrying `sendRecord` (stage 1 of a
 * live order, or of a live cancel whose answer is unknown) is checked and
 * applied the same way, but writes its send record instead of a result and
 * leaves the entry pending.
 *
 * Live orders (wire-v1 §6 `UNKNOWN`), per `(lane, stream_id)`: stage 1 (the
 * commit above) → the send → {@link Ledger.finishSend} writes the result and
 * acknowledges, keeping the record as an open UNKNOWN when the result is
 * `UNKNOWN` → {@link Ledger.reconcile} writes the one `reconciled: true`
 * follow-up and closes it. A live cancel whose answer is unknown goes the
 * same way with a `CancelRecord` (no send between stage 1 and 2: it was
 * sent before the commit), its orders' events written by `updateOrders`
 * before its follow-up.
 */
export interface Ledger {
  /** Reads the facts the gates need for a batch, in one round trip where the backend allows. */
  readFacts(query: FactsQuery): Promise<Facts>;
  /** Commits decisions in order; one outcome per decision. */
  commit(decisions: readonly Decision[]): Promise<CommitOutcome[]>;
  /** The trading state (`ACTIVE` when never set). */
  getTradingState(): Promise<TradingState>;
  /** Sets the trading state and appends `{state, who, at}` to the state log; applies to every commit after it returns. */
  setTradingState(state: TradingState, who: string): Promise<void>;
  /** The trading-state change log, oldest first. */
  tradingStateLog(): Promise<TradingStateChange[]>;
  /** Every non-zero position, each with its book (venue and mode). */
  positions(): Promise<LedgerPosition[]>;
  /**
   * Stage 2 of a live order, one atomic step: if the entry is no longer
   * pending, `duplicate` and nothing written; else append `result`,
   * acknowledge the entry and delete its send record, or, when `result` is
   * `UNKNOWN`, keep the record as an open UNKNOWN for reconciliation; and
   * write `finish` (the resting order, the fill's position), all in the
   * same step. `"position"`: the position is no longer `finish.position`'s
   * expected text; nothing written (read it again and retry).
   */
  finishSend(record: OpenRecord, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome>;
  /**
   * The reconciled follow-up of an `UNKNOWN` result, once per entry: if the
   * entry has an open UNKNOWN, append `result` (which carries
   * `reconciled: true`) and close it, writing `finish` with it, in one
   * atomic step; else `duplicate`. `"position"` as for finishSend.
   */
  reconcile(entry: EntryRef, result: PlanResult, finish?: LiveFinish): Promise<LiveFinishOutcome>;
  /** Open UNKNOWNs (acknowledged, outcome not yet known), oldest first; of one venue when given. */
  openUnknowns(venue?: VenueName): Promise<OpenRecord[]>;
  /**
   * Live sends under way: stage 1 written, result not yet (the entry still
   * pending), oldest first. An order among them may already be filled at
   * the venue without any result saying so (the position watcher waits).
   */
  sendsInFlight(): Promise<OpenRecord[]>;
  /** Working orders (wire-v1 §4a), oldest first; of one venue when given. */
  workingOrders(venue?: VenueName): Promise<WorkingOrder[]>;
  /**
   * What happened to working orders after their result (a fill, a cancel by
   * a trading-state change or by the venue), each update as one atomic step:
   * if the order is still stored as exactly `expected` (and the position,
   * when the update moves one, is still exactly its `expected`), store
   * `next` (or remove the order when `next` is null), set the position, and
   * append the event to the order event stream; else `conflict` and nothing
   * written. So several followers of one order write each event once.
   */
  updateOrders(updates: readonly OrderUpdate[]): Promise<("applied" | "conflict")[]>;
  /**
   * Takes or renews the named lease for `owner`, in one atomic step: true
   * when it was free, expired or already the owner's (it then holds for
   * `ttlMs` more), false while another owner holds it. So one executor of
   * several does what must be done once (following live orders, keeping the
   * venues' dead-man switches armed).
   */
  holdLease(lease: LeaseRequest): Promise<boolean>;
  /** Order events after `afterId` (exclusive; `"0"` for all), oldest first. */
  readOrderEvents(afterId: string, count: number): Promise<OrderEventEntry[]>;
  /** The newest order event's id, `"0"` when there is none: where a reader that wants only new events starts. */
  lastOrderEventId(): Promise<string>;
}

export type { OrderUpdate } from "../core/orderUpdate.js";

/** What {@link Ledger.holdLease} asks for. */
export interface LeaseRequest {
  readonly name: string;
  readonly owner: string;
  readonly ttlMs: number;
}

/** One entry of the order event stream. */
export interface OrderEventEntry {
  readonly id: string;
  readonly event: OrderEvent;
}

/**
 * Thrown by {@link Ledger.commit} when the store refused a batch for what it
 * holds (a value it cannot store, a script error on this input), never for
 * being unreachable; nothing of the batch was written. The executor then
 * commits the decisions one at a time, and answers one the store still
 * refuses with a plain `internal_error` result.
 */
export class CommitRefusedError extends Error {
  override readonly name = "CommitRefusedError";
}

/** One logged trading-state change (wire-v1 §7). */
export interface TradingStateChange {
  readonly state: TradingState;
  readonly who: string;
  readonly at: number;
}

/** One position in its book (venue and mode); `qty` is a signed canonical decimal string. */
export interface LedgerPosition extends PositionRef {
  readonly qty: string;
}

/** What a live order's result writes with it (Ledger.finishSend, Ledger.reconcile). */
export interface LiveFinish {
  /** The LIMIT order the result leaves on the book, stored as working. */
  readonly resting?: WorkingOrder;
  /** What the order filled, moving its live book: applied only while the position is still `expected`. */
  readonly position?: PositionMove;
}

/** How a live result's write ended: written; already written (nothing written); the position moved (nothing written). */
export type LiveFinishOutcome = "committed" | "duplicate" | "position";

import type { CommitOutcome, Decision } from "../core/decision.js";
import type { Facts, FactsQuery } from "../core/facts.js";
import type { TradingState } from "../core/plan.js";

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
 * ones' writes.
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
  /** Every non-zero paper position. */
  positions(): Promise<PaperPosition[]>;
}

/** One logged trading-state change (wire-v1 §7). */
export interface TradingStateChange {
  readonly state: TradingState;
  readonly who: string;
  readonly at: number;
}

/** One paper position; `qty` is a signed canonical decimal string. */
export interface PaperPosition {
  readonly account: string;
  readonly symbol: string;
  readonly qty: string;
}

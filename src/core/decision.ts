import type { PositionRef } from "./facts.js";
import type { LiveCancel } from "./liveCancel.js";
import type { LiveOrder } from "./liveOrder.js";
import type { OpenRecord } from "./openRecord.js";
import type { OrderEvent } from "./orderEvent.js";
import type { Lane, TradingState } from "./plan.js";
import type { PlanResult } from "./result.js";
import type { WorkingOrder } from "./workingOrder.js";

/**
 * A decided plan entry, ready for the ledger's atomic commit: the result to
 * write, the shared state the decision relied on (re-checked inside the
 * atomic step; a mismatch is a conflict and the entry is decided again), and
 * the writes to make.
 *
 * The ledger commits it as one atomic step: (1) if the entry already has a
 * result (it is no longer pending) do nothing and report `duplicate`; (2) run
 * every check, and on the first mismatch write nothing and report `conflict`;
 * (3) apply the effects, append the result (and the DLQ copy), acknowledge
 * the entry.
 */
export interface Decision {
  readonly lane: Lane;
  readonly streamId: string;
  readonly result: PlanResult;
  readonly checks: DecisionChecks;
  readonly effects: DecisionEffects;
  /**
   * Set when every gate passed and the order goes to a live venue: the
   * executor prepares it at the venue (which may sign it) and attaches
   * {@link Decision.sendRecord}; it never reaches the ledger without one.
   */
  readonly live?: LiveOrder;
  /**
   * Stage 1 of a live order (or of a live cancel whose answer is unknown):
   * the commit checks and applies the decision as usual but, instead of
   * writing `result` and acknowledging the entry, records that the request
   * is (or was) at the venue. The entry stays pending until
   * `Ledger.finishSend`.
   */
  readonly sendRecord?: OpenRecord;
  /**
   * Set when a cancel plan passed every gate and its orders are at a live
   * venue: the executor cancels them there and completes the decision
   * (`completeLiveCancel`: final, or stage 1 with a `CancelRecord`); it
   * never reaches the ledger with this set.
   */
  readonly liveCancel?: LiveCancel;
}

/** Shared state the decision read; each present check must still hold at commit. */
export interface DecisionChecks {
  /** The trading state must still be exactly this. */
  readonly tradingState?: TradingState;
  /** The plan_id must still be claimed (`claimed: true`) or still unclaimed. */
  readonly planId?: { readonly id: string; readonly claimed: boolean };
  /** The permit_id must still be consumed (`used: true`) or still unconsumed. */
  readonly permit?: { readonly id: string; readonly used: boolean };
  /**
   * The rate decision must still hold against the live counter `c` (before
   * this entry's increment): `allowed` needs `c + 1 <= limit`, otherwise
   * `c + 1 > limit`.
   */
  readonly rate?: {
    readonly source: string;
    readonly window: number;
    readonly limit: number;
    readonly allowed: boolean;
  };
  /** The position must still be exactly this canonical decimal text ("0" when flat). */
  readonly position?: PositionRef & { readonly expected: string };
  /**
   * Each working order must still be stored as exactly this text
   * (`encodeWorkingOrder`), or still be absent (`null`).
   */
  readonly workingOrders?: readonly WorkingOrderCheck[];
  /**
   * The duplicate-order mark of `key` (`duplicateKeyOf`) must still be
   * exactly `expected`: the decision time (ms, as text) of the last plan with
   * the same content executed within the window, or `null` for none.
   */
  readonly duplicate?: { readonly key: string; readonly expected: string | null };
  /**
   * The account's notional placed on `day` (UTC) must still be exactly this
   * canonical decimal text ("0" when none).
   */
  readonly dailyNotional?: { readonly account: string; readonly day: string; readonly expected: string };
  /**
   * The open-order decision must still hold against the account's live count
   * `c` of open orders (working, being sent, open UNKNOWN): `allowed` needs
   * `c + 1 <= limit`, otherwise `c + 1 > limit`.
   */
  readonly openOrders?: { readonly account: string; readonly limit: number; readonly allowed: boolean };
  /**
   * The account's exposure must still be what the batch read, changed only
   * by the `touched` decisions of this batch committed before this one
   * (`exposureTouches`). A ledger compares `snapshot` whole, or, when it
   * versions its books (Redis), their `version`: a ledger that reads a
   * version must always give one (see `AccountExposure.version`).
   */
  readonly exposure?: {
    readonly account: string;
    readonly snapshot: ReadonlyMap<string, string>;
    readonly version?: string | undefined;
    readonly touched: number;
  };
}

/** One working order a decision read: its key and the text it had (`null`: there was none). */
export interface WorkingOrderCheck {
  readonly key: string;
  readonly expected: string | null;
}

/** Writes made by the commit, after every check passed. */
export interface DecisionEffects {
  /** Claim this plan_id for `(lane, streamId)` if nobody has (set-if-absent). */
  readonly claimPlanId?: string;
  /** Mark this permit_id consumed by `(lane, streamId)`. */
  readonly consumePermit?: string;
  /** Count one plan in this source's rate window. */
  readonly countRate?: { readonly source: string; readonly window: number };
  /** Set the position to this canonical decimal text ("0" removes it). */
  readonly setPosition?: PositionRef & { readonly value: string };
  /** Store this order as working (a LIMIT order resting on the book). */
  readonly openOrder?: WorkingOrder;
  /** Remove these working orders (cancelled by this decision). */
  readonly closeOrders?: readonly string[];
  /** Append these to the order event stream (wire-v1 §4a). */
  readonly orderEvents?: readonly OrderEvent[];
  /**
   * Mark that a plan with this content (`duplicateKeyOf`) executed at `at`
   * (ms); the mark lives `ttlMs` (`limits.duplicate_window_ms`), then is gone.
   */
  readonly markDuplicate?: { readonly key: string; readonly at: number; readonly ttlMs: number };
  /** Set the account's notional placed on `day` (UTC) to this canonical decimal text. */
  readonly setDailyNotional?: { readonly account: string; readonly day: string; readonly value: string };
  /** Also copy the entry to the DLQ stream (delivery limit reached). */
  readonly deadLetter?: {
    readonly fields: ReadonlyArray<readonly [string, Buffer]>;
    readonly deliveries: number;
  };
}

/** How the ledger's atomic step ended for one decision. */
export type CommitOutcome =
  /** `resultId` is "" for a stage-1 commit of a live order (no result written yet). */
  | { readonly status: "committed"; readonly resultId: string }
  | { readonly status: "duplicate" }
  | { readonly status: "conflict"; readonly on: keyof DecisionChecks | "sendRecord" | "deployment" };

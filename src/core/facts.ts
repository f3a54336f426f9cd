import type { DailyRef } from "./dailyNotional.js";
import type { AccountExposure } from "./exposure.js";
import { memoKey2 } from "./keyMemo.js";
import type { OpenRecord } from "./openRecord.js";
import { type Lane, type TradingState, VENUES, type VenueName } from "./plan.js";
import type { OrderScope, StoredWorkingOrder } from "./workingOrder.js";

/**
 * Shared state a decision reads (trading state, plan_id and permit ownership,
 * rate counters, positions), read from the ledger before the gates run. The
 * gates never do I/O: they are handed this snapshot.
 */
export interface Facts {
  readonly tradingState: TradingState;
  /** plan_ids already claimed (by any entry). */
  readonly claimedPlanIds: ReadonlySet<string>;
  /** permit_ids already consumed. */
  readonly usedPermitIds: ReadonlySet<string>;
  /** Plans counted at gate 9 per {@link rateKey}. */
  readonly rateCounts: ReadonlyMap<string, number>;
  /** Positions per {@link positionKey} (each book apart), canonical signed decimal text; absent means 0. */
  readonly positions: ReadonlyMap<string, string>;
  /** Live orders (and cancels) being sent or unknown, per `sendKey` of the entries asked for. */
  readonly sendRecords: ReadonlyMap<string, OpenRecord>;
  /** Working orders asked for (by key, and every one in a scope asked for), per key. */
  readonly workingOrders: ReadonlyMap<string, StoredWorkingOrder>;
  /**
   * Duplicate-order marks asked for, per `duplicateKeyOf` key: the ms text
   * stored (when it executed, by the executor that marked it). A ledger
   * returns only marks that still last by its own clock (Redis: the key has
   * not expired); the limits gate denies on any mark returned, never
   * comparing the text with its own clock.
   */
  readonly duplicates: ReadonlyMap<string, string>;
  /** Notional placed per `dailyKey` asked for, canonical decimal text (absent: none that day). */
  readonly dailyNotional: ReadonlyMap<string, string>;
  /**
   * Open orders per account asked for: working orders, live sends under way
   * and open UNKNOWN orders (absent: none).
   */
  readonly openOrders: ReadonlyMap<string, number>;
  /** Exposure per account asked for (`limits.max_position`, `limits.max_gross_notional`). */
  readonly exposure: ReadonlyMap<string, AccountExposure>;
}

/** What to read before deciding a batch. */
export interface FactsQuery {
  readonly planIds: readonly string[];
  readonly permitIds: readonly string[];
  readonly rates: readonly RateWindow[];
  readonly positions: readonly PositionRef[];
  /**
   * Entries whose send record to read: only redelivered ones (a first
   * delivery cannot have one: only the consumer holding an entry writes it).
   */
  readonly sendRecords?: readonly EntryRef[];
  /** Working orders to read by key (cancel targets). */
  readonly orderKeys?: readonly string[];
  /** Scopes whose every working order to read (cancel-all plans). */
  readonly orderScopes?: readonly OrderScope[];
  /** Duplicate-order marks to read (`duplicateKeyOf` keys). */
  readonly duplicates?: readonly string[];
  /** Accounts' daily notionals to read. */
  readonly dailyNotional?: readonly DailyRef[];
  /** Accounts whose open orders to count. */
  readonly openOrderAccounts?: readonly string[];
  /** Accounts whose exposure to read: every position and every order that may still fill. */
  readonly exposureAccounts?: readonly string[];
}

/** One plan entry: `(lane, stream_id)`. */
export interface EntryRef {
  readonly lane: Lane;
  readonly streamId: string;
}

/** One source's rate counter for one one-second window (`window` = floor(ms / 1000)). */
export interface RateWindow {
  readonly source: string;
  readonly window: number;
}

/**
 * Whether a position's fills happened on paper (the paper venue, or a live
 * venue's dry run) or at the venue itself.
 */
export type PositionMode = "paper" | "live";

/**
 * One position: an account's holding in a symbol, in one book (venue and
 * mode). Books never mix: a dry run's paper fills on Binance are not the
 * paper venue's, and neither is what was filled live on Binance.
 */
export interface PositionRef {
  readonly account: string;
  readonly symbol: string;
  readonly venue: VenueName;
  readonly mode: PositionMode;
}

/** A conditional change of one position: it must still be `expected`, and becomes `value` ("0" removes it). */
export type PositionMove = PositionRef & { readonly expected: string; readonly value: string };

/** Map key of a rate window in {@link Facts.rateCounts}. */
export const rateKey = (r: RateWindow): string => `${r.source}\n${r.window}`;
/**
 * Map key of a position in {@link Facts.positions}; also the ledger's field
 * name. The paper venue's book keeps the field it always had,
 * `[account, symbol]`, so ledgers written before books were told apart read
 * the same; every other book is `[account, symbol, venue, mode]`.
 */
export const positionKey = (p: PositionRef): string =>
  p.venue === "paper" && p.mode === "paper"
    ? paperBookKey(p.account, p.symbol)
    : JSON.stringify([p.account, p.symbol, p.venue, p.mode]);

// the paper book's field, asked for several times per paper plan: built once per account and symbol
const paperBookKey = memoKey2((account, symbol) => JSON.stringify([account, symbol]));

/** The position a {@link positionKey} names, or undefined for a field that is not one. */
export function parsePositionKey(field: string): PositionRef | undefined {
  let key: unknown;
  try {
    key = JSON.parse(field);
  } catch {
    return undefined;
  }
  if (!Array.isArray(key) || !key.every((k) => typeof k === "string")) return undefined;
  const [account, symbol, venue, mode] = key as string[];
  if (account === undefined || symbol === undefined) return undefined;
  if (key.length === 2) return { account, symbol, venue: "paper", mode: "paper" };
  if (key.length !== 4 || !VENUES.includes(venue as VenueName) || (mode !== "paper" && mode !== "live"))
    return undefined;
  const ref: PositionRef = { account, symbol, venue: venue as VenueName, mode };
  // one spelling per book: the paper venue's paper book is only ever [account, symbol]
  return positionKey(ref) === field ? ref : undefined;
}

import { formatDecimal, parseDecimal } from "./decimal.js";
import { type PositionMove, positionKey } from "./facts.js";
import { stateCancelCause } from "./liveOrderUpdate.js";
import { type OrderEvent, type OrderEventCause, type OrderEventKind, orderEventOf } from "./orderEvent.js";
import { crosses } from "./paperExecution.js";
import { positionAfter, positionDelta, reduceOnlyAllows } from "./paperFill.js";
import type { TradingState } from "./plan.js";
import type { Policy } from "./policy.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/** One change to a working order after its result, applied atomically by the ledger (`Ledger.updateOrders`). */
export interface OrderUpdate {
  readonly key: string;
  /** The text the order must still be stored as (`encodeWorkingOrder`). */
  readonly expected: string;
  /** The order after the update (partly filled; its `key` is `key`), or `null`: it no longer works. */
  readonly next: WorkingOrder | null;
  readonly event: OrderEvent;
  /** A fill's position change: the position must still be `expected`, and becomes `value` ("0" removes it). */
  readonly position?: PositionMove;
}

/**
 * Throws when an update would store its order under another key than the
 * one it checked (`next.key` must be `key`): a ledger refuses such a call
 * before writing anything.
 */
export function assertOrderUpdates(updates: readonly OrderUpdate[]): void {
  for (const u of updates)
    if (u.next !== null && u.next.key !== u.key)
      throw new Error(`order update for ${u.key} would store the order under ${u.next.key}`);
}

/** What the paper follower is handed: the working orders, the trading state, the policy, the paper positions. */
export interface PaperFollowInput {
  readonly orders: readonly WorkingOrder[];
  readonly tradingState: TradingState;
  readonly policy: Pick<Policy, "referencePrices" | "onHalt" | "onReducing">;
  /** Paper positions per `positionKey`, canonical signed decimal text (absent: 0). */
  readonly positions: ReadonlyMap<string, string>;
  readonly now: number;
  /**
   * Told of a working order that cannot be followed (its quantity, price or
   * position is not a decimal): it is left as it is, never filled on a guess,
   * and the other orders are followed.
   */
  readonly onMalformed?: (key: string, why: string) => void;
}

/**
 * What happens next to the paper venue's working orders (wire-v1 §7, §7a),
 * oldest first; pure. With `on_halt: cancel` (the default) `HALTED` cancels
 * every one (`cause: "state:HALTED"`); with `on_reducing: cancel` `REDUCING`
 * cancels those that are not `reduce_only`. A LIMIT order the reference price
 * now crosses fills in full at its limit price, moving the position; a
 * `reduce_only` one that would open, grow or flip the position expires
 * instead (`EXPIRED`, `cause: "venue"`), as exchanges expire it. Orders at
 * live venues are not the paper venue's and are left alone.
 */
export function followPaperOrders(input: PaperFollowInput): OrderUpdate[] {
  const { policy, tradingState, now } = input;
  const positions = new Map(input.positions);
  const updates: OrderUpdate[] = [];
  for (const order of input.orders) {
    if (order.mode !== "paper") continue;
    const expected = encodeWorkingOrder(order);
    const end = (kind: OrderEventKind, cause: OrderEventCause): OrderUpdate => ({
      key: order.key,
      expected,
      next: null,
      event: orderEventOf(order, {
        kind,
        fillQty: order.fill_qty,
        avgPrice: order.fill_qty === "0" ? null : order.price,
        cause,
        now,
      }),
    });
    const cause = stateCancelCause(order, tradingState, policy);
    if (cause !== undefined) {
      updates.push(end("CANCELED", cause));
      continue;
    }
    const limit = parseDecimal(order.price);
    const qty = parseDecimal(order.qty);
    if (limit === undefined || qty === undefined) {
      // Never filled on a guess; the other orders are followed as usual.
      input.onMalformed?.(order.key, "qty or price is not a decimal");
      continue;
    }
    if (!crosses(order.side, limit, policy.referencePrices.get(order.symbol))) continue;
    const book = { account: order.account, symbol: order.symbol, venue: order.venue, mode: order.mode };
    const pk = positionKey(book);
    const beforeText = positions.get(pk) ?? "0";
    const before = parseDecimal(beforeText, { signed: true });
    if (before === undefined) {
      input.onMalformed?.(order.key, `the position ${pk} is not a decimal`);
      continue;
    }
    const delta = positionDelta(order.side, qty);
    if (order.reduce_only && !reduceOnlyAllows(before, delta)) {
      updates.push(end("EXPIRED", "venue"));
      continue;
    }
    const after = formatDecimal(positionAfter(before, delta));
    positions.set(pk, after);
    updates.push({
      key: order.key,
      expected,
      next: null,
      event: orderEventOf(order, {
        kind: "FILL",
        fillQty: order.qty,
        avgPrice: order.price,
        cause: null,
        now,
      }),
      position: { ...book, expected: beforeText, value: after },
    });
  }
  return updates;
}

import { parseDecimal } from "./decimal.js";
import { canceledEvent } from "./liveCancel.js";
import type { OrderEventCause } from "./orderEvent.js";
import { orderEventOf } from "./orderEvent.js";
import type { OrderUpdate } from "./orderUpdate.js";
import type { TradingState } from "./plan.js";
import type { Policy } from "./policy.js";
import type { VenueOrderState } from "./venueOrder.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/**
 * Whether the trading state cancels a working order (wire-v1 §7): with
 * `on_halt: cancel` (the default) `HALTED` cancels every one; with
 * `on_reducing: cancel`, `REDUCING` cancels those that are not
 * `reduce_only`. The cause its event carries, or `undefined` to keep it.
 */
export function stateCancelCause(
  order: Pick<WorkingOrder, "reduce_only">,
  tradingState: TradingState,
  policy: Pick<Policy, "onHalt" | "onReducing">,
): "state:HALTED" | "state:REDUCING" | undefined {
  if (tradingState === "HALTED" && policy.onHalt === "cancel") return "state:HALTED";
  if (tradingState === "REDUCING" && policy.onReducing === "cancel" && !order.reduce_only)
    return "state:REDUCING";
  return undefined;
}

/** The update that ends a live working order the venue cancelled (or expired), with `cause`. */
export function liveCancelUpdate(
  order: WorkingOrder,
  state: VenueOrderState,
  cause: OrderEventCause,
  now: number,
): OrderUpdate {
  return {
    key: order.key,
    expected: encodeWorkingOrder(order),
    next: null,
    event: canceledEvent(order, state, cause, now),
  };
}

/**
 * What a lookup at the venue means for a live working order (wire-v1 §4a),
 * pure: more filled while still open → a `FILL` event, the order kept with
 * its new fill; filled → `FILL`, ended; cancelled, expired or rejected by
 * the venue (its dead-man switch, an expiry, a self-trade rule) → `CANCELED`
 * / `EXPIRED` with `cause: "venue"`, ended; nothing new → `undefined`. The
 * venue's cumulative fill never goes backwards: a smaller one is ignored.
 */
export function followLiveOrder(
  order: WorkingOrder,
  state: VenueOrderState,
  now: number,
): OrderUpdate | undefined {
  const expected = encodeWorkingOrder(order);
  const before = parseDecimal(order.fill_qty) ?? 0n;
  const filled = parseDecimal(state.fillQty);
  if (filled === undefined) return undefined;
  switch (state.status) {
    case "open":
      if (filled <= before) return undefined;
      return {
        key: order.key,
        expected,
        next: { ...order, fill_qty: state.fillQty },
        event: fill(order, state, now),
      };
    case "filled":
      return { key: order.key, expected, next: null, event: fill(order, state, now) };
    case "canceled":
    case "expired":
      return liveCancelUpdate(order, state, "venue", now);
    case "rejected":
      return liveCancelUpdate(order, { ...state, status: "expired" }, "venue", now);
  }
}

function fill(order: WorkingOrder, state: VenueOrderState, now: number) {
  return orderEventOf(order, {
    kind: "FILL",
    fillQty: state.fillQty,
    avgPrice: state.avgPrice,
    cause: null,
    now,
  });
}

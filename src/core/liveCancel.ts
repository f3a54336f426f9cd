import { ORDER_NOT_OPEN } from "./cancelExecution.js";
import type { Decision } from "./decision.js";
import { type OrderEvent, orderEventOf } from "./orderEvent.js";
import type { VenueName } from "./plan.js";
import type { Reason } from "./reasons.js";
import type { OrderRef, VenueOrderState } from "./venueOrder.js";
import type { WorkingOrder } from "./workingOrder.js";

/**
 * A cancel plan's working orders at a live venue (wire-v1 §3 `cancel`,
 * `cancel_all`): the executor cancels each at the venue before the plan's
 * result is committed ({@link completeLiveCancel}).
 */
export interface LiveCancel {
  readonly venue: Exclude<VenueName, "paper">;
  readonly orders: readonly WorkingOrder[];
}

/** How the cancel of one order ended at the venue, as the executor worked it out. */
export type OrderCancelOutcome =
  /** The venue holds it cancelled (by this request, or by an earlier one whose answer was lost). */
  | { readonly kind: "canceled"; readonly state: VenueOrderState }
  /** It ended otherwise (filled): nothing cancelled; the order follower records how it ended. */
  | { readonly kind: "not_open" }
  /** Refused (a signer denial, a rate limit): nothing cancelled. */
  | { readonly kind: "rejected"; readonly reason: Reason; readonly rateLimited?: boolean }
  /** Not known whether it was cancelled. */
  | { readonly kind: "unknown"; readonly detail: string };

/**
 * How a live order is found again from its working order: Polymarket finds
 * orders by their hash (the venue's order id), Binance by client order id.
 */
export function orderRefOf(order: WorkingOrder): OrderRef {
  return {
    venue: order.venue,
    account: order.account,
    symbol: order.symbol,
    clientOrderId: order.client_order_id,
    venueRef: order.venue === "polymarket" ? order.order_id : order.client_order_id,
  };
}

/**
 * The `CANCELED` event of a working order the venue cancelled, with the fill
 * the venue reports (what filled before the cancel stays filled).
 */
export function canceledEvent(
  order: WorkingOrder,
  state: VenueOrderState,
  cause: OrderEvent["cause"],
  now: number,
): OrderEvent {
  return orderEventOf(order, {
    kind: state.status === "expired" ? "EXPIRED" : "CANCELED",
    fillQty: state.fillQty,
    avgPrice: state.avgPrice,
    cause,
    now,
  });
}

/**
 * The final decision of a live cancel plan once the venue answered for each
 * of its orders (in `decision.liveCancel.orders` order), or `undefined` while
 * any answer is unknown: the entry then stays pending and is decided again
 * on redelivery (a second cancel of a cancelled order finds it cancelled).
 * Any order cancelled → `EXECUTED`, each cancelled order removed with its
 * `CANCELED` event (`cause: plan:<plan_id>`); else the first refusal's
 * reason, else `FAILED venue_error:order_not_open`.
 */
export function completeLiveCancel(
  decision: Decision,
  outcomes: readonly OrderCancelOutcome[],
  now: number,
): Decision | undefined {
  const orders = decision.liveCancel?.orders ?? [];
  if (outcomes.length !== orders.length) throw new Error("one cancel outcome per order");
  if (outcomes.some((o) => o.kind === "unknown")) return undefined;
  const { liveCancel: _cancel, ...rest } = decision;
  const cause = `plan:${decision.result.plan_id}` as const;
  const events: OrderEvent[] = [];
  const closed: string[] = [];
  outcomes.forEach((o, i) => {
    if (o.kind !== "canceled") return;
    const order = orders[i] as WorkingOrder;
    events.push(canceledEvent(order, o.state, cause, now));
    closed.push(order.key);
  });
  if (closed.length > 0)
    return {
      ...rest,
      result: { ...decision.result, timestamp: now },
      effects: { ...decision.effects, closeOrders: closed, orderEvents: events },
    };
  const refused = outcomes.find((o) => o.kind === "rejected");
  const error = refused?.kind === "rejected" ? refused.reason : ORDER_NOT_OPEN;
  return {
    ...rest,
    result: {
      ...decision.result,
      decision: "FAILED",
      executed: false,
      error,
      client_order_id: null,
      order_id: null,
      timestamp: now,
    },
  };
}

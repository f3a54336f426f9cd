import type { VenueName } from "./plan.js";
import type { WorkingOrder } from "./workingOrder.js";

/** What happened to a working order (wire-v1 §4a). */
export type OrderEventKind = "FILL" | "CANCELED" | "EXPIRED";

/**
 * Who ended a working order: a cancel plan (`plan:<plan_id>`), a trading
 * state change (`state:HALTED`, `state:REDUCING`), the venue itself
 * (its dead-man switch, a reduce-only order it would not fill), or nobody
 * known.
 */
export type OrderEventCause = `plan:${string}` | "state:HALTED" | "state:REDUCING" | "venue" | "unknown";

/** One order event entry's JSON (wire-v1 §4a), written once per venue event. */
export interface OrderEvent {
  readonly v: 1;
  readonly plan_id: string;
  readonly venue: VenueName;
  readonly account: string;
  readonly symbol: string;
  readonly client_order_id: string;
  readonly order_id: string;
  readonly event: OrderEventKind;
  /** Cumulative filled quantity, canonical decimal text. */
  readonly fill_qty: string;
  /** Average fill price, canonical decimal text; `null` while nothing filled. */
  readonly avg_price: string | null;
  /** Set on CANCELED and EXPIRED; `null` on FILL. */
  readonly cause: OrderEventCause | null;
  readonly timestamp: number;
}

/**
 * The event for `order`: `fill_qty` and `avg_price` as the venue reports them
 * after the event (a cancel keeps what had filled before it).
 */
export function orderEventOf(
  order: WorkingOrder,
  event: {
    readonly kind: OrderEventKind;
    readonly fillQty: string;
    readonly avgPrice: string | null;
    readonly cause: OrderEventCause | null;
    readonly now: number;
  },
): OrderEvent {
  return {
    v: 1,
    plan_id: order.plan_id,
    venue: order.venue,
    account: order.account,
    symbol: order.symbol,
    client_order_id: order.client_order_id,
    order_id: order.order_id,
    event: event.kind,
    fill_qty: event.fillQty,
    avg_price: event.avgPrice,
    cause: event.cause,
    timestamp: event.now,
  };
}

/**
 * What an accepted plan becomes at a venue, as plain data: the order, the
 * guard context the signing plane is told, how to find the order again, and
 * the order as the venue reports it. The venue port (`ports/venue.ts`)
 * speaks in these types; the core builds and reads them without I/O.
 */
import type { OrderType, Side, TradingState, VenueName } from "./plan.js";

/** One order, derived from an accepted plan. Decimals are canonical text. */
export interface VenueOrder {
  readonly account: string;
  /** Venue symbol (`BTCUSDT`) or, for Polymarket, the outcome token id. */
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: string;
  /** LIMIT price; absent for MARKET. */
  readonly price: string | undefined;
  /** The executor's reference price (for MARKET notional checks by the signer); absent when unknown. */
  readonly referencePrice: string | undefined;
  readonly reduceOnly: boolean;
  /** Derived from plan_id (core/clientOrderId), within the venue's limits. */
  readonly clientOrderId: string;
}

/** What the executor decided, sent to the signing plane as `guard_context` (signing-plane-v1 §2). */
export interface OrderGuard {
  readonly plan_id: string;
  readonly source: string;
  readonly decision: "EXECUTE";
  readonly trading_state: TradingState;
  readonly permit_id: string | null;
  readonly mode: "live" | "paper";
  readonly lane: string;
  readonly stream_id: string;
}

/** How to find an order again; stored durably before sending. JSON-safe. */
export interface OrderRef {
  readonly venue: VenueName;
  readonly account: string;
  readonly symbol: string;
  readonly clientOrderId: string;
  /** What {@link Venue.lookup} asks by: the client order id, or the venue's order hash. */
  readonly venueRef: string;
}

/** A venue's order as it stands. */
export interface VenueOrderState {
  readonly orderId: string;
  /** `open` (resting or partly filled), `filled`, `canceled`, `expired`, `rejected`. */
  readonly status: "open" | "filled" | "canceled" | "expired" | "rejected";
  readonly fillQty: string;
  readonly avgPrice: string | null;
}

import { inspect } from "node:util";
import { DECIMAL_ONE, type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { sharesAndUsdc } from "../../core/polymarket/ctfOrder.js";
import type { OrderGuard, OrderRef, VenueOrder, VenueOrderState } from "../../ports/venue.js";
import type { PolymarketAccount } from "./accounts.js";
import type { PostOrderOutcome } from "./clobErrors.js";
import type { ClobOrderType } from "./orderRules.js";

/** What a {@link PolymarketTicket} holds. */
export interface PolymarketTicketContents {
  readonly ref: OrderRef;
  readonly account: PolymarketAccount;
  /** The signed JSON `order` of `POST /order`. */
  readonly order: Readonly<Record<string, unknown>>;
  readonly orderType: ClobOrderType;
  /** What the signer was told: the L2 headers of `POST /order` are signed for the same target and guard. */
  readonly target: Readonly<Record<string, unknown>>;
  readonly guard: OrderGuard;
  readonly side: VenueOrder["side"];
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly reduceOnly: boolean;
}

/**
 * The venue's private part of a prepared order (`PreparedOrder.venueData`),
 * what `prepare` fixed and only `send` reads: the signed order, its type,
 * what the signer was told. Printing or serialising it shows the ref only.
 */
export class PolymarketTicket {
  /** Set by the first `send`: the adapter never sends an order twice. */
  sent = false;

  constructor(readonly contents: PolymarketTicketContents) {}

  toJSON(): unknown {
    return { ref: this.contents.ref };
  }

  [inspect.custom](): string {
    return `PolymarketTicket { venueRef: '${this.contents.ref.venueRef}' }`;
  }
}

/**
 * The order as it stands after a successful `POST /order`: the matched
 * amounts when the CLOB gives them (a BUY makes USDC and takes shares, a SELL
 * the reverse), else all of it at its price when `matched`, none otherwise.
 */
export function placedState(
  ticket: PolymarketTicketContents,
  answer: Extract<PostOrderOutcome, { kind: "placed" }>,
): VenueOrderState {
  const making = answer.makingAmount === undefined ? undefined : parseDecimal(answer.makingAmount);
  const taking = answer.takingAmount === undefined ? undefined : parseDecimal(answer.takingAmount);
  let shares: Decimal;
  let usdc: Decimal;
  if (making !== undefined && taking !== undefined && (making > 0n || answer.status !== "matched")) {
    [shares, usdc] = sharesAndUsdc(ticket.side, making, taking);
  } else if (answer.status === "matched") {
    shares = ticket.qty;
    usdc = ((ticket.qty * ticket.price) / DECIMAL_ONE) as Decimal;
  } else {
    shares = 0n as Decimal;
    usdc = 0n as Decimal;
  }
  return {
    orderId: answer.orderId,
    status: shares >= ticket.qty ? "filled" : "open",
    fillQty: formatDecimal(shares),
    avgPrice: shares > 0n ? formatDecimal(((usdc * DECIMAL_ONE) / shares) as Decimal) : null,
  };
}

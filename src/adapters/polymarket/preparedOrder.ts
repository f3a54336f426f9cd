import { inspect } from "node:util";
import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import type { OrderGuard, OrderRef, VenueOrder, VenueOrderState } from "../../ports/venue.js";
import type { PolymarketAccount } from "./accounts.js";
import type { PostOrderOutcome } from "./clobErrors.js";
import type { ClobOrderType } from "./orderRules.js";

const ONE = 10n ** 18n;

/**
 * What `prepare` fixed and only `send` reads: the signed order, its type,
 * what the signer was told. Printing or serialising it shows the ref only.
 */
export class PolymarketPrepared {
  /** Set by the first `send`: the adapter never sends an order twice. */
  sent = false;
  constructor(
    readonly ref: OrderRef,
    readonly account: PolymarketAccount,
    readonly order: Readonly<Record<string, unknown>>,
    readonly orderType: ClobOrderType,
    readonly target: Readonly<Record<string, unknown>>,
    readonly guard: OrderGuard,
    readonly side: VenueOrder["side"],
    readonly qty: Decimal,
    readonly price: Decimal,
    readonly reduceOnly: boolean,
  ) {}

  toJSON(): unknown {
    return { ref: this.ref };
  }

  [inspect.custom](): string {
    return `PolymarketPrepared { venueRef: '${this.ref.venueRef}' }`;
  }
}

/**
 * The order as it stands after a successful `POST /order`: the matched
 * amounts when the CLOB gives them (a BUY makes USDC and takes shares, a SELL
 * the reverse), else all of it at its price when `matched`, none otherwise.
 */
export function placedState(
  p: PolymarketPrepared,
  answer: Extract<PostOrderOutcome, { kind: "placed" }>,
): VenueOrderState {
  const making = answer.makingAmount === undefined ? undefined : parseDecimal(answer.makingAmount);
  const taking = answer.takingAmount === undefined ? undefined : parseDecimal(answer.takingAmount);
  let shares: Decimal;
  let usdc: Decimal;
  if (making !== undefined && taking !== undefined && (making > 0n || answer.status !== "matched")) {
    [shares, usdc] = p.side === "BUY" ? [taking, making] : [making, taking];
  } else if (answer.status === "matched") {
    shares = p.qty;
    usdc = ((p.qty * p.price) / ONE) as Decimal;
  } else {
    shares = 0n as Decimal;
    usdc = 0n as Decimal;
  }
  return {
    orderId: answer.orderId,
    status: shares >= p.qty ? "filled" : "open",
    fillQty: formatDecimal(shares),
    avgPrice: shares > 0n ? formatDecimal(((usdc * ONE) / shares) as Decimal) : null,
  };
}

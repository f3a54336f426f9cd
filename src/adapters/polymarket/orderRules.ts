import { DECIMAL_ONE, type Decimal } from "../../core/decimal.js";
import { DECIMAL_PER_UNIT, makerAndTaker, type OrderSide } from "../../core/polymarket/ctfOrder.js";

/**
 * The CLOB's own rules for one order, checked before anything is signed, and
 * the order's amounts in base units (USDC and conditional tokens both have 6
 * decimals), computed exactly as clob-client-v2's `getOrderRawAmounts` does
 * for inputs on its grid: a BUY pays `makerAmount` USDC for `takerAmount`
 * shares, a SELL gives `makerAmount` shares for `takerAmount` USDC.
 *
 * Refusals (decision `DENIED`: the plan can never be placed as given):
 *
 * | reason | when |
 * |---|---|
 * | `invalid_plan:lot_size` | `qty` has more than 2 decimals (the package rounds sizes to 2) |
 * | `invalid_plan:tick_size` | the price is not a multiple of the market's tick size |
 * | `invalid_plan:price_range` | the price is below one tick or above 1 − tick |
 * | `invalid_plan:min_size` | `qty` is below the market's `min_order_size` |
 * | `invalid_plan:amount_precision` | FOK only: a BUY's USDC or a SELL's shares (the maker amount) has more than 2 decimals, or the taker amount more than 4 (the CLOB's rule for marketable orders) |
 * | `limit:min_notional` | FOK BUY under 1 USDC (the CLOB's minimum for a marketable buy) |
 */
export type OrderRuleReason =
  | "invalid_plan:lot_size"
  | "invalid_plan:tick_size"
  | "invalid_plan:price_range"
  | "invalid_plan:min_size"
  | "invalid_plan:amount_precision"
  | "limit:min_notional";

/** What the CLOB says about one outcome token's market. */
export interface MarketRules {
  readonly tickSize: Decimal;
  readonly negRisk: boolean;
  readonly minOrderSize: Decimal;
}

/** `GTC` rests what does not fill; `FOK` fills in full at once or is killed. */
export type ClobOrderType = "GTC" | "FOK";

/** An order's amounts in 6-decimal base units. */
export interface OrderAmounts {
  readonly makerAmount: bigint;
  readonly takerAmount: bigint;
  readonly shareUnits: bigint;
  readonly usdcUnits: bigint;
}

/** Sizes have at most 2 decimals. */
const SIZE_STEP = 10n ** 16n;
/** Marketable orders: maker amount at most 2 decimals, taker amount at most 4 (in base units: multiples of 10^4, 10^2). */
const MARKET_MAKER_STEP = 10n ** 4n;
const MARKET_TAKER_STEP = 10n ** 2n;
const MIN_MARKETABLE_BUY_UNITS = 1_000_000n;

/**
 * Checks `qty` shares at `price` against the market's rules and computes the
 * amounts; the first failing rule of the table above decides.
 * @example checkOrder({ side: "BUY", qty: qty("10"), price: price("0.57"), orderType: "GTC" }, rules) // { ok: true, amounts: { makerAmount: 5700000n, takerAmount: 10000000n, … } }
 */
export function checkOrder(
  order: {
    readonly side: OrderSide;
    /** Shares. */
    readonly qty: Decimal;
    /** USDC per share. */
    readonly price: Decimal;
    readonly orderType: ClobOrderType;
  },
  rules: MarketRules,
):
  | { readonly ok: true; readonly amounts: OrderAmounts }
  | { readonly ok: false; readonly reason: OrderRuleReason } {
  const { side, qty, price, orderType } = order;
  if (qty <= 0n || qty % SIZE_STEP !== 0n) return { ok: false, reason: "invalid_plan:lot_size" };
  if (rules.tickSize <= 0n || price % rules.tickSize !== 0n)
    return { ok: false, reason: "invalid_plan:tick_size" };
  if (price < rules.tickSize || price > DECIMAL_ONE - rules.tickSize)
    return { ok: false, reason: "invalid_plan:price_range" };
  if (qty < rules.minOrderSize) return { ok: false, reason: "invalid_plan:min_size" };
  const notional = qty * price; // 10^36 per USDC
  if (notional % (DECIMAL_ONE * DECIMAL_PER_UNIT) !== 0n)
    return { ok: false, reason: "invalid_plan:amount_precision" };
  const shareUnits = qty / DECIMAL_PER_UNIT;
  const usdcUnits = notional / (DECIMAL_ONE * DECIMAL_PER_UNIT);
  const [makerAmount, takerAmount] = makerAndTaker(side, shareUnits, usdcUnits);
  if (orderType === "FOK") {
    if (makerAmount % MARKET_MAKER_STEP !== 0n || takerAmount % MARKET_TAKER_STEP !== 0n)
      return { ok: false, reason: "invalid_plan:amount_precision" };
    if (side === "BUY" && usdcUnits < MIN_MARKETABLE_BUY_UNITS)
      return { ok: false, reason: "limit:min_notional" };
  }
  return { ok: true, amounts: { makerAmount, takerAmount, shareUnits, usdcUnits } };
}

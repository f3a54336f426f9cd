import { absDecimal, addDecimal, type Decimal, negDecimal } from "./decimal.js";
import type { Side } from "./plan.js";

/**
 * The signed change an order makes to a position: `+qty` for BUY, `-qty` for SELL.
 * @example positionDelta("SELL", qty) // -qty
 */
export function positionDelta(side: Side, qty: Decimal): Decimal {
  return side === "BUY" ? qty : negDecimal(qty);
}

/**
 * Whether a `reduce_only` order of signed size `delta` may fill against the
 * position `before`: only when it moves the position towards zero without
 * crossing it. Opening (no position), growing or flipping is refused, as
 * exchanges refuse it (wire-v1 §7a; used by the execution step, core/executionPlan.ts).
 * @example reduceOnlyAllows(2n, -1n) // true; reduceOnlyAllows(2n, -3n) // false (flip)
 */
export function reduceOnlyAllows(before: Decimal, delta: Decimal): boolean {
  return before !== 0n && before > 0n !== delta > 0n && absDecimal(delta) <= absDecimal(before);
}

/** The position after a fill of signed size `delta`. */
export function positionAfter(before: Decimal, delta: Decimal): Decimal {
  return addDecimal(before, delta);
}

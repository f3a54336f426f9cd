import { absDecimal, addDecimal, formatDecimal, negDecimal, parseDecimal } from "../decimal.js";
import { positionKey } from "../facts.js";
import { DEFAULT_ACCOUNT } from "../plan.js";
import { reason } from "../reasons.js";
import type { Gate } from "./gate.js";
import { planOf } from "./gate.js";
import { pricingPrice } from "./limits.js";

/**
 * Gate 11 on the paper venue (wire-v1 §7a): MARKET fills at the reference
 * price, LIMIT at its own price, at once and in full. A `reduce_only` order
 * that would open, grow or flip the position is refused
 * (`venue_error:reduce_only_rejected`, decision `FAILED`), as exchanges do.
 */
export const executionGate: Gate = {
  name: "execution",
  run({ policy, facts }, ev) {
    const plan = planOf(ev);
    const account = plan.account ?? DEFAULT_ACCOUNT;
    const symbol = plan.symbol;
    const beforeText = facts.positions.get(positionKey({ account, symbol })) ?? "0";
    const before = parseDecimal(beforeText, { signed: true });
    if (before === undefined) throw new Error("ledger holds a malformed position");
    const checks = { position: { account, symbol, expected: beforeText } };
    const delta = plan.side === "BUY" ? plan.qty : negDecimal(plan.qty);
    if (plan.reduce_only) {
      const reduces = before !== 0n && before > 0n !== delta > 0n && absDecimal(delta) <= absDecimal(before);
      if (!reduces)
        return { ok: false, reason: reason("venue_error", "reduce_only_rejected"), kind: "FAILED", checks };
    }
    const price = plan.type === "LIMIT" ? plan.price : pricingPrice(plan, policy);
    if (price === undefined) throw new Error("no fill price after the limits gate");
    const fill = {
      account,
      symbol,
      qty: formatDecimal(plan.qty),
      price: formatDecimal(price),
      before: beforeText,
      after: formatDecimal(addDecimal(before, delta)),
    };
    return { ok: true, checks, found: { fill } };
  },
};

import { compareProduct, type Decimal, maxDecimal } from "../decimal.js";
import type { DecisionChecks } from "../decision.js";
import { type RateWindow, rateKey } from "../facts.js";
import type { OrderPlan } from "../plan.js";
import type { Policy } from "../policy.js";
import { reason } from "../reasons.js";
import { deny, type Gate, type GateFindings, planOf } from "./gate.js";

/**
 * Gate 9: `limit:max_qty`, `limit:max_notional` (`limit:no_reference_price`
 * when no price exists), `limit:rate`, `limit:kelly_fraction`, in that order.
 * Every plan that reaches this gate counts against its source's rate window;
 * a cancel is checked against the rate alone.
 */
export const limitsGate: Gate = {
  name: "limits",
  run({ policy, facts, now }, ev) {
    const plan = planOf(ev);
    const limits = policy.limits;
    let extra: GateFindings = {};
    let rateAllowed = true;
    if (limits.ratePerSourcePerS !== undefined) {
      const source = plan.source;
      const second = Math.floor(now / 1000);
      const window: RateWindow = { source, window: second };
      const count = facts.rateCounts.get(rateKey(window)) ?? 0;
      // A stored counter that is not a count is corrupt shared state: this entry fails alone
      // (internal_error, nothing written), never decided on a guess.
      if (!Number.isSafeInteger(count) || count < 0)
        throw new Error(`rate counter of ${source} holds ${String(count).slice(0, 20)}, not a count`);
      rateAllowed = count + 1 <= limits.ratePerSourcePerS;
      const checks: DecisionChecks = {
        rate: { source, window: second, limit: limits.ratePerSourcePerS, allowed: rateAllowed },
      };
      extra = { found: { countRate: window }, checks };
    }
    // Cancels count against the rate, and no other limit applies to them.
    if (plan.action !== "place")
      return rateAllowed ? { ok: true, ...extra } : deny(reason("limit", "rate"), extra);
    const maxQty = limits.maxQty.get(plan.symbol);
    if (maxQty !== undefined && plan.qty > maxQty) return deny(reason("limit", "max_qty"), extra);
    const price = pricingPrice(plan, policy);
    if (price === undefined && (limits.maxNotional !== undefined || fillsAtReference(plan, policy))) {
      return deny(reason("limit", "no_reference_price"), extra);
    }
    if (
      limits.maxNotional !== undefined &&
      price !== undefined &&
      compareProduct(plan.qty, price, limits.maxNotional) > 0
    ) {
      return deny(reason("limit", "max_notional"), extra);
    }
    if (!rateAllowed) return deny(reason("limit", "rate"), extra);
    const kelly = plan.meta?.kelly_fraction;
    if (
      limits.maxKellyFraction !== undefined &&
      typeof kelly === "number" &&
      kelly > limits.maxKellyFraction
    ) {
      return deny(reason("limit", "kelly_fraction"), extra);
    }
    return { ok: true, ...extra };
  },
};

/**
 * The price a plan's notional is measured at: the venue's reference price for
 * MARKET (never the plan's own claim), the larger of the limit price and the
 * reference price for LIMIT.
 */
export function pricingPrice(plan: OrderPlan, policy: Policy): Decimal | undefined {
  const reference = policy.referencePrices.get(plan.symbol);
  if (plan.type === "MARKET") return reference;
  const limit = plan.price as Decimal;
  return reference === undefined ? limit : maxDecimal(limit, reference);
}

/** A MARKET plan that will fill on the paper venue needs a reference price to fill at. */
function fillsAtReference(plan: OrderPlan, policy: Policy): boolean {
  return plan.type === "MARKET" && (plan.venue === "paper" || !policy.live);
}

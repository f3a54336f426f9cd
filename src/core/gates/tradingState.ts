import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 5: `HALTED` lets nothing through (`trading_halted`); `REDUCING` lets
 * only the exit owner's `reduce_only` plans through (`trading_reducing`).
 * Cancels pass in every state: stopping trading must never stop taking
 * orders off the book.
 */
export const tradingStateGate: Gate = {
  name: "trading_state",
  run({ policy, facts }, ev) {
    const plan = planOf(ev);
    if (plan.action !== "place") return ALLOW;
    const checks = { tradingState: facts.tradingState };
    if (facts.tradingState === "HALTED") return deny(reason("trading_halted"), { checks });
    if (facts.tradingState === "REDUCING" && !(plan.reduce_only && plan.source === policy.exitOwner)) {
      return deny(reason("trading_reducing"), { checks });
    }
    return { ok: true, checks };
  },
};

import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 6: `stale_plan` when older than `max_plan_age_ms`, past `expires_at`,
 * or `created_at` more than `max_clock_skew_ms` in the future.
 */
export const freshnessGate: Gate = {
  name: "freshness",
  run({ policy, now }, ev) {
    const plan = planOf(ev);
    const { maxPlanAgeMs, maxClockSkewMs } = policy.limits;
    const stale =
      (maxPlanAgeMs !== undefined && now - plan.created_at > maxPlanAgeMs) ||
      (plan.expires_at !== undefined && now > plan.expires_at) ||
      plan.created_at - now > maxClockSkewMs;
    return stale ? deny(reason("stale_plan")) : ALLOW;
  },
};

import { reason } from "../reasons.js";
import { deny, type Gate, planOf } from "./gate.js";

/** Gate 7: a plan_id already claimed by another entry is `duplicate_plan_id`. */
export const idempotencyGate: Gate = {
  name: "idempotency",
  run({ facts }, ev) {
    const { plan_id } = planOf(ev);
    const claimed = facts.claimedPlanIds.has(plan_id);
    const checks = { planId: { id: plan_id, claimed } };
    return claimed ? deny(reason("duplicate_plan_id"), { checks }) : { ok: true, checks };
  },
};

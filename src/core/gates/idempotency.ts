import { claimKey } from "../claimKey.js";
import { reason } from "../reasons.js";
import { deny, type Gate, planOf, unsignedSourceOf } from "./gate.js";

/**
 * Gate 7: a plan_id already claimed in the entry's namespace is
 * `duplicate_plan_id` (signed plans share one namespace; an unsigned entry
 * looks only in its own source's, see `claimKey`).
 */
export const idempotencyGate: Gate = {
  name: "idempotency",
  run({ facts }, ev) {
    const id = claimKey(planOf(ev).plan_id, unsignedSourceOf(ev));
    const claimed = facts.claimedPlanIds.has(id);
    const checks = { planId: { id, claimed } };
    return claimed ? deny(reason("duplicate_plan_id"), { checks }) : { ok: true, checks };
  },
};

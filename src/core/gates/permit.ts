import { verifyPermitToken } from "../permit/permitToken.js";
import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 8: the plan's permit, checked whenever one is present (and required
 * when `permits.required`). Codes in order: `permit_required`,
 * `permit_invalid:<format|payload|issuer|signature>`, `permit_expired`,
 * `permit_mismatch:<plan_id|symbol|side|max_qty|reduce_only>`, `permit_reused`.
 */
export const permitGate: Gate = {
  name: "permit",
  run({ policy, facts, now }, ev) {
    const plan = planOf(ev);
    if (plan.permit === undefined) return policy.permits.required ? deny(reason("permit_required")) : ALLOW;
    const verified = verifyPermitToken(plan.permit, policy);
    if (!verified.ok) return deny(reason("permit_invalid", verified.invalid));
    const permit = verified.permit;
    if (now > permit.exp) return deny(reason("permit_expired"));
    const mismatch =
      permit.plan_id !== plan.plan_id
        ? "plan_id"
        : permit.symbol !== plan.symbol
          ? "symbol"
          : permit.side !== plan.side
            ? "side"
            : plan.qty > permit.max_qty
              ? "max_qty"
              : permit.reduce_only !== plan.reduce_only
                ? "reduce_only"
                : undefined;
    if (mismatch) return deny(reason("permit_mismatch", mismatch));
    const used = facts.usedPermitIds.has(permit.permit_id);
    const checks = { permit: { id: permit.permit_id, used } };
    return used ? deny(reason("permit_reused"), { checks }) : { ok: true, checks, found: { permit } };
  },
};

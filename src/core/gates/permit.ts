import { claimKey } from "../claimKey.js";
import { verifyPermitToken } from "../permit/permitToken.js";
import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf, unsignedSourceOf } from "./gate.js";

/**
 * Gate 8: the plan's permit, checked whenever one is present (and required
 * when `permits.required`). Codes in order: `permit_required`,
 * `permit_invalid:<format|payload|issuer|signature>`, `permit_expired`,
 * `permit_mismatch:<plan_id|symbol|side|max_qty|reduce_only>`, `permit_reused`.
 * An unsigned entry's permit is consumed in its own source's namespace
 * (`claimKey`), so it cannot burn a permit granted to a signed plan.
 */
export const permitGate: Gate = {
  name: "permit",
  run({ policy, facts, now }, ev) {
    const plan = planOf(ev);
    // A cancel carries no permit (gate 1 refuses one) and needs none.
    if (plan.action !== "place") return ALLOW;
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
    const id = claimKey(permit.permit_id, unsignedSourceOf(ev));
    const used = facts.usedPermitIds.has(id);
    const checks = { permit: { id, used } };
    return used ? deny(reason("permit_reused"), { checks }) : { ok: true, checks, found: { permit } };
  },
};

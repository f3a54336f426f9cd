import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 4: only the configured exit owner may send `reduce_only` plans
 * (`NOT_EXIT_OWNER:source=<source>`). With no exit owner configured every
 * `reduce_only` plan is denied: the gate never switches itself off.
 */
export const exitOwnershipGate: Gate = {
  name: "exit_ownership",
  run({ policy }, ev) {
    const plan = planOf(ev);
    if (!plan.reduce_only) return ALLOW;
    return policy.exitOwner !== undefined && plan.source === policy.exitOwner
      ? ALLOW
      : deny(reason("NOT_EXIT_OWNER", `source=${plan.source}`));
  },
};

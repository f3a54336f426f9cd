import { cancelTargetKey } from "../cancelExecution.js";
import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 4: who may do what to whose orders.
 *
 * - Only the configured exit owner may send `reduce_only` plans
 *   (`NOT_EXIT_OWNER:source=<source>`). With no exit owner configured every
 *   `reduce_only` plan is denied: the gate never switches itself off.
 * - A `cancel` of another source's working order, and any `cancel_all`, is
 *   denied `not_order_owner:source=<source>` unless it comes from the exit
 *   owner or on the `manual` lane. A cancel whose target is not working
 *   passes here and fails at execution (`venue_error:order_not_open`).
 */
export const exitOwnershipGate: Gate = {
  name: "exit_ownership",
  run({ policy, facts, entry }, ev) {
    const plan = planOf(ev);
    const isExitOwner = policy.exitOwner !== undefined && plan.source === policy.exitOwner;
    if (plan.action === "place") {
      if (!plan.reduce_only || isExitOwner) return ALLOW;
      return deny(reason("NOT_EXIT_OWNER", `source=${plan.source}`));
    }
    if (isExitOwner || entry.lane === "manual") return ALLOW;
    const notOwner = deny(reason("not_order_owner", `source=${plan.source}`));
    if (plan.action === "cancel_all") return notOwner;
    const target = facts.workingOrders.get(cancelTargetKey(plan, ev));
    return target === undefined || target.order.source === plan.source ? ALLOW : notOwner;
  },
};

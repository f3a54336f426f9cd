import { claimKey } from "./claimKey.js";
import type { DecisionChecks } from "./decision.js";
import { type Evaluation, type GateInput, unsignedSourceOf } from "./gates/gate.js";
import { type OrderEvent, orderEventOf } from "./orderEvent.js";
import { type CancelAllPlan, type CancelPlan, DEFAULT_ACCOUNT } from "./plan.js";
import { type Reason, reason } from "./reasons.js";
import { inScope, type OrderScope, type WorkingOrder } from "./workingOrder.js";

/** How a cancel plan is carried out: orders cancelled (with their events), or refused (nothing cancelled). */
export type CancelExecution =
  | {
      readonly kind: "cancel";
      readonly cancelled: readonly WorkingOrder[];
      readonly events: readonly OrderEvent[];
      readonly checks: DecisionChecks;
    }
  | { readonly kind: "refused"; readonly reason: Reason; readonly checks: DecisionChecks };

/**
 * The working-order key a `cancel` plan targets: the target plan's claim in
 * the cancel's own namespace (wire-v1 §3), so a plan let through unsigned
 * can only ever reach orders of its own source's unsigned plans.
 */
export function cancelTargetKey(plan: CancelPlan, ev: Evaluation): string {
  return claimKey(plan.target_plan_id, unsignedSourceOf(ev));
}

/** The scope a `cancel_all` plan reaches: its account on its venue, of its symbol when given. */
export function cancelAllScope(plan: CancelAllPlan): OrderScope {
  return { venue: plan.venue, account: plan.account ?? DEFAULT_ACCOUNT, symbol: plan.symbol };
}

/**
 * Cancels on the paper venue (working orders resting there, `mode: "paper"`):
 * the target order, or every one in the scope, each with a `CANCELED` event
 * whose cause is `plan:<plan_id>`. Nothing working to cancel (already filled,
 * cancelled, never placed, or on another symbol) is `FAILED
 * venue_error:order_not_open`. Every order read is checked at commit.
 */
export function paperCancel(
  { facts, now }: GateInput,
  ev: Evaluation,
  plan: CancelPlan | CancelAllPlan,
): CancelExecution {
  let found: { order: WorkingOrder; text: string }[];
  let checks: DecisionChecks;
  if (plan.action === "cancel") {
    const key = cancelTargetKey(plan, ev);
    const stored = facts.workingOrders.get(key);
    checks = { workingOrders: [{ key, expected: stored?.text ?? null }] };
    found =
      stored !== undefined &&
      stored.order.mode === "paper" &&
      stored.order.venue === plan.venue &&
      stored.order.symbol === plan.symbol
        ? [stored]
        : [];
  } else {
    const scope = cancelAllScope(plan);
    found = [...facts.workingOrders.values()].filter(
      (s) => s.order.mode === "paper" && inScope(s.order, scope),
    );
    checks = { workingOrders: found.map((s) => ({ key: s.order.key, expected: s.text })) };
  }
  if (found.length === 0) return { kind: "refused", reason: reason("venue_error", "order_not_open"), checks };
  const cause = `plan:${plan.plan_id}` as const;
  const events = found.map(({ order }) =>
    orderEventOf(order, {
      kind: "CANCELED",
      fillQty: order.fill_qty,
      avgPrice: order.fill_qty === "0" ? null : order.price,
      cause,
      now,
    }),
  );
  return { kind: "cancel", cancelled: found.map((s) => s.order), events, checks };
}

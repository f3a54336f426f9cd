import { claimKey } from "./claimKey.js";
import type { DecisionChecks } from "./decision.js";
import { type Evaluation, type GateInput, unsignedSourceOf } from "./gates/gate.js";
import { type OrderEvent, orderEventOf } from "./orderEvent.js";
import { type CancelAllPlan, type CancelPlan, DEFAULT_ACCOUNT } from "./plan.js";
import { type Reason, reason } from "./reasons.js";
import { inScope, type OrderScope, type StoredWorkingOrder, type WorkingOrder } from "./workingOrder.js";

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

/** The working orders a cancel plan reaches in one mode, as read, with the checks that pin them at commit. */
export interface CancelTargets {
  readonly found: readonly StoredWorkingOrder[];
  readonly checks: DecisionChecks;
}

/**
 * The working orders a cancel plan reaches among those of `mode` (`paper`:
 * resting on the paper venue; `live`: at a live venue): the target order, or
 * every one in the scope. Every order read is checked at commit, and so is
 * the absence of a target that is not there.
 */
export function cancelTargets(
  { facts }: Pick<GateInput, "facts">,
  ev: Evaluation,
  plan: CancelPlan | CancelAllPlan,
  mode: WorkingOrder["mode"],
): CancelTargets {
  if (plan.action === "cancel") {
    const key = cancelTargetKey(plan, ev);
    const stored = facts.workingOrders.get(key);
    const hit =
      stored !== undefined &&
      stored.order.mode === mode &&
      stored.order.venue === plan.venue &&
      stored.order.symbol === plan.symbol;
    return {
      found: hit ? [stored] : [],
      checks: { workingOrders: [{ key, expected: stored?.text ?? null }] },
    };
  }
  const scope = cancelAllScope(plan);
  const found = [...facts.workingOrders.values()].filter(
    (s) => s.order.mode === mode && inScope(s.order, scope),
  );
  return { found, checks: { workingOrders: found.map((s) => ({ key: s.order.key, expected: s.text })) } };
}

/** Nothing working to cancel: already filled, cancelled, never placed, or on another symbol. */
export const ORDER_NOT_OPEN: Reason = reason("venue_error", "order_not_open");

/**
 * Cancels on the paper venue (working orders resting there, `mode: "paper"`):
 * the target order, or every one in the scope, each with a `CANCELED` event
 * whose cause is `plan:<plan_id>`. Nothing working to cancel is `FAILED
 * venue_error:order_not_open`.
 */
export function paperCancel(
  input: GateInput,
  ev: Evaluation,
  plan: CancelPlan | CancelAllPlan,
): CancelExecution {
  const { found, checks } = cancelTargets(input, ev, plan, "paper");
  if (found.length === 0) return { kind: "refused", reason: ORDER_NOT_OPEN, checks };
  const cause = `plan:${plan.plan_id}` as const;
  const events = found.map(({ order }) =>
    orderEventOf(order, {
      kind: "CANCELED",
      fillQty: order.fill_qty,
      avgPrice: order.fill_qty === "0" ? null : order.price,
      cause,
      now: input.now,
    }),
  );
  return { kind: "cancel", cancelled: found.map((s) => s.order), events, checks };
}

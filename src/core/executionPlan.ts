import { type CancelExecution, paperCancel } from "./cancelExecution.js";
import { clientOrderId } from "./clientOrderId.js";
import { formatDecimal } from "./decimal.js";
import { type Evaluation, type GateInput, planOf } from "./gates/gate.js";
import type { LiveOrder } from "./liveOrder.js";
import { type PaperExecution, paperExecution } from "./paperExecution.js";
import type { OrderPlan } from "./plan.js";
import { reason } from "./reasons.js";

export type { PaperFill } from "./paperExecution.js";

/**
 * How a plan that passed every gate is executed (wire §6 step 11): on the
 * paper venue (filled, resting, or refused), sent as a live order, or, for a
 * cancel, the working orders it cancels. `checks` is the shared state it read,
 * re-checked at commit like the gates'.
 */
export type ExecutionPlan =
  | PaperExecution
  | CancelExecution
  | { readonly kind: "live"; readonly live: LiveOrder };

/**
 * Plans the execution of a plan every gate passed; pure, like the gates. For
 * a live route it builds the order and the guard context the signing plane is
 * told; nothing is sent here. Cancels act on the paper venue's working
 * orders; a cancel routed to a live venue is `FAILED
 * venue_error:cancel_not_supported` (this build does not cancel at live
 * venues: cancel there directly).
 */
export function planExecution(input: GateInput, ev: Evaluation): ExecutionPlan {
  const plan = planOf(ev);
  const live = ev.route?.mode === "live";
  if (plan.action !== "place") {
    return live
      ? { kind: "refused", reason: reason("venue_error", "cancel_not_supported"), checks: {} }
      : paperCancel(input, ev, plan);
  }
  return live ? { kind: "live", live: liveOrderOf(input, ev, plan) } : paperExecution(input, ev, plan);
}

function liveOrderOf({ policy, facts, entry }: GateInput, ev: Evaluation, plan: OrderPlan): LiveOrder {
  const venue = ev.route?.venue;
  if (venue === undefined || venue === "paper" || plan.account === undefined)
    throw new Error("live route without a live venue and account");
  const ref = policy.referencePrices.get(plan.symbol);
  return {
    venue,
    order: {
      account: plan.account,
      symbol: plan.symbol,
      side: plan.side,
      type: plan.type,
      qty: formatDecimal(plan.qty),
      price: plan.price === undefined ? undefined : formatDecimal(plan.price),
      referencePrice: ref === undefined ? undefined : formatDecimal(ref),
      reduceOnly: plan.reduce_only,
      clientOrderId: clientOrderId(plan.plan_id),
    },
    guard: {
      plan_id: plan.plan_id,
      source: plan.source,
      decision: "EXECUTE",
      trading_state: facts.tradingState,
      permit_id: ev.permit?.permit_id ?? null,
      mode: "live",
      lane: entry.lane,
      stream_id: entry.id,
    },
  };
}

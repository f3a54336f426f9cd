import { type CancelExecution, cancelTargets, ORDER_NOT_OPEN, paperCancel } from "./cancelExecution.js";
import { claimKey } from "./claimKey.js";
import { clientOrderId } from "./clientOrderId.js";
import { formatDecimal } from "./decimal.js";
import type { DecisionChecks } from "./decision.js";
import { type Evaluation, type GateInput, planOf, unsignedSourceOf } from "./gates/gate.js";
import type { LiveCancel } from "./liveCancel.js";
import type { LiveOrder } from "./liveOrder.js";
import { type PaperExecution, paperExecution } from "./paperExecution.js";
import type { CancelAllPlan, CancelPlan, OrderPlan } from "./plan.js";
import { marketOrderPrice } from "./referencePrice.js";
import type { WorkingOrder } from "./workingOrder.js";

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
  | { readonly kind: "live"; readonly live: LiveOrder }
  | { readonly kind: "live_cancel"; readonly cancel: LiveCancel; readonly checks: DecisionChecks };

/**
 * Plans the execution of a plan every gate passed; pure, like the gates. For
 * a live route it builds the order and the guard context the signing plane is
 * told; nothing is sent here. A cancel acts on the working orders of its
 * route's mode: on the paper venue at once, at a live venue through the
 * executor ({@link LiveCancel}); nothing working to cancel is `FAILED
 * venue_error:order_not_open`.
 */
export function planExecution(input: GateInput, ev: Evaluation): ExecutionPlan {
  const plan = planOf(ev);
  const live = ev.route?.mode === "live";
  if (plan.action !== "place") {
    return live ? liveCancelOf(input, ev, plan) : paperCancel(input, ev, plan);
  }
  return live ? { kind: "live", live: liveOrderOf(input, ev, plan) } : paperExecution(input, ev, plan);
}

function liveCancelOf(input: GateInput, ev: Evaluation, plan: CancelPlan | CancelAllPlan): ExecutionPlan {
  const { found, checks } = cancelTargets(input, ev, plan, "live");
  if (found.length === 0 || plan.venue === "paper")
    return { kind: "refused", reason: ORDER_NOT_OPEN, checks };
  return { kind: "live_cancel", cancel: { venue: plan.venue, orders: found.map((s) => s.order) }, checks };
}

function liveOrderOf({ facts, entry, now }: GateInput, ev: Evaluation, plan: OrderPlan): LiveOrder {
  const venue = ev.route?.venue;
  if (venue === undefined || venue === "paper" || plan.account === undefined)
    throw new Error("live route without a live venue and account");
  // The live venue's own price (gate 9 read it); a Polymarket MARKET order is a FOK at the book's best price.
  const ref =
    venue === "polymarket" && plan.type === "MARKET"
      ? ev.reference && marketOrderPrice(plan, ev.reference)
      : ev.reference?.price;
  const cid = clientOrderId(plan.plan_id);
  const account = plan.account;
  const working: WorkingOrder | undefined =
    plan.type === "LIMIT" && plan.price !== undefined
      ? {
          key: claimKey(plan.plan_id, unsignedSourceOf(ev)),
          plan_id: plan.plan_id,
          source: plan.source,
          lane: entry.lane,
          stream_id: entry.id,
          venue,
          mode: "live",
          account,
          symbol: plan.symbol,
          side: plan.side,
          qty: formatDecimal(plan.qty),
          price: formatDecimal(plan.price),
          reduce_only: plan.reduce_only,
          client_order_id: cid,
          order_id: "",
          fill_qty: "0",
          placed_at: now,
        }
      : undefined;
  return {
    ...(working ? { working } : {}),
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
      clientOrderId: cid,
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

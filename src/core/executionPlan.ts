import { clientOrderId } from "./clientOrderId.js";
import { formatDecimal, parseDecimal } from "./decimal.js";
import type { DecisionChecks } from "./decision.js";
import { positionKey } from "./facts.js";
import { type Evaluation, type GateInput, planOf } from "./gates/gate.js";
import { pricingPrice } from "./gates/limits.js";
import type { LiveOrder } from "./liveOrder.js";
import { positionAfter, positionDelta, reduceOnlyAllows } from "./paperFill.js";
import { DEFAULT_ACCOUNT } from "./plan.js";
import { type Reason, reason } from "./reasons.js";

/** A paper fill worked out by {@link planExecution}. */
export interface PaperFill {
  readonly account: string;
  readonly symbol: string;
  readonly qty: string;
  readonly price: string;
  /** Position before and after, canonical signed decimal text. */
  readonly before: string;
  readonly after: string;
}

/**
 * How a plan that passed every gate is executed (wire §6 step 11): filled on
 * the paper venue, sent as a live order, or refused by the paper venue
 * (`FAILED`, nothing placed). `checks` is the shared state it read, re-checked
 * at commit like the gates'.
 */
export type ExecutionPlan =
  | { readonly kind: "paper"; readonly fill: PaperFill; readonly checks: DecisionChecks }
  | { readonly kind: "live"; readonly live: LiveOrder }
  | { readonly kind: "refused"; readonly reason: Reason; readonly checks: DecisionChecks };

/**
 * Plans the execution of a plan every gate passed; pure, like the gates.
 *
 * On the paper venue (wire §7a) MARKET fills at the reference price, LIMIT at
 * its own price, at once and in full; a `reduce_only` order that would open,
 * grow or flip the position is refused (`venue_error:reduce_only_rejected`),
 * as exchanges do. For a live route it builds the order and the guard context
 * the signing plane is told; nothing is sent here.
 */
export function planExecution(input: GateInput, ev: Evaluation): ExecutionPlan {
  return ev.route?.mode === "live" ? { kind: "live", live: liveOrderOf(input, ev) } : paperFillOf(input, ev);
}

function paperFillOf({ policy, facts }: GateInput, ev: Evaluation): ExecutionPlan {
  const plan = planOf(ev);
  const account = plan.account ?? DEFAULT_ACCOUNT;
  const symbol = plan.symbol;
  const beforeText = facts.positions.get(positionKey({ account, symbol })) ?? "0";
  const before = parseDecimal(beforeText, { signed: true });
  if (before === undefined) throw new Error("ledger holds a malformed position");
  const checks = { position: { account, symbol, expected: beforeText } };
  const delta = positionDelta(plan.side, plan.qty);
  if (plan.reduce_only && !reduceOnlyAllows(before, delta))
    return { kind: "refused", reason: reason("venue_error", "reduce_only_rejected"), checks };
  const price = plan.type === "LIMIT" ? plan.price : pricingPrice(plan, policy);
  if (price === undefined) throw new Error("no fill price after the limits gate");
  const fill: PaperFill = {
    account,
    symbol,
    qty: formatDecimal(plan.qty),
    price: formatDecimal(price),
    before: beforeText,
    after: formatDecimal(positionAfter(before, delta)),
  };
  return { kind: "paper", fill, checks };
}

function liveOrderOf({ policy, facts, entry }: GateInput, ev: Evaluation): LiveOrder {
  const plan = planOf(ev);
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

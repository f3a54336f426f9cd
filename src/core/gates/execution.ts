import { clientOrderId } from "../clientOrderId.js";
import { formatDecimal, parseDecimal } from "../decimal.js";
import { positionKey } from "../facts.js";
import type { LiveOrder } from "../liveOrder.js";
import { positionAfter, positionDelta, reduceOnlyAllows } from "../paperFill.js";
import { DEFAULT_ACCOUNT } from "../plan.js";
import { reason } from "../reasons.js";
import type { Evaluation, Gate, GateInput, GateOutcome } from "./gate.js";
import { planOf } from "./gate.js";
import { pricingPrice } from "./limits.js";

/**
 * Gate 11 on the paper venue (wire-v1 §7a): MARKET fills at the reference
 * price, LIMIT at its own price, at once and in full. A `reduce_only` order
 * that would open, grow or flip the position is refused
 * (`venue_error:reduce_only_rejected`, decision `FAILED`), as exchanges do.
 */
export const executionGate: Gate = {
  name: "execution",
  run(input, ev) {
    if (ev.route?.mode === "live") return liveOrderOf(input, ev);
    const { policy, facts } = input;
    const plan = planOf(ev);
    const account = plan.account ?? DEFAULT_ACCOUNT;
    const symbol = plan.symbol;
    const beforeText = facts.positions.get(positionKey({ account, symbol })) ?? "0";
    const before = parseDecimal(beforeText, { signed: true });
    if (before === undefined) throw new Error("ledger holds a malformed position");
    const checks = { position: { account, symbol, expected: beforeText } };
    const delta = positionDelta(plan.side, plan.qty);
    if (plan.reduce_only && !reduceOnlyAllows(before, delta))
      return { ok: false, reason: reason("venue_error", "reduce_only_rejected"), kind: "FAILED", checks };
    const price = plan.type === "LIMIT" ? plan.price : pricingPrice(plan, policy);
    if (price === undefined) throw new Error("no fill price after the limits gate");
    const fill = {
      account,
      symbol,
      qty: formatDecimal(plan.qty),
      price: formatDecimal(price),
      before: beforeText,
      after: formatDecimal(positionAfter(before, delta)),
    };
    return { ok: true, checks, found: { fill } };
  },
};

/**
 * Gate 11 for a live venue: the order to prepare and send, and the guard
 * context the signing plane is told. Nothing is filled here: the executor
 * sends it after recording that it is being sent.
 */
function liveOrderOf({ policy, facts, entry }: GateInput, ev: Evaluation): GateOutcome {
  const plan = planOf(ev);
  const venue = ev.route?.venue;
  if (venue === undefined || venue === "paper" || plan.account === undefined)
    throw new Error("live route without a live venue and account");
  const ref = policy.referencePrices.get(plan.symbol);
  const live: LiveOrder = {
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
  return { ok: true, found: { live } };
}

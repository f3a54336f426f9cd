import { claimKey } from "./claimKey.js";
import { clientOrderId } from "./clientOrderId.js";
import { type Decimal, formatDecimal, storedDecimal } from "./decimal.js";
import type { DecisionChecks } from "./decision.js";
import { type PositionRef, positionKey } from "./facts.js";
import type { Evaluation } from "./gates/gate.js";
import { type GateInput, unsignedSourceOf } from "./gates/gate.js";
import { pricingPrice } from "./gates/limits.js";
import { positionAfter, positionDelta, reduceOnlyAllows } from "./paperFill.js";
import { DEFAULT_ACCOUNT, type OrderPlan, type Side } from "./plan.js";
import { type Reason, reason } from "./reasons.js";
import type { WorkingOrder } from "./workingOrder.js";

/** A paper fill: the order filled at once and in full. */
export interface PaperFill {
  /** The book it fills in: the plan's venue, on paper. */
  readonly book: PositionRef;
  readonly qty: string;
  readonly price: string;
  /** Position before and after, canonical signed decimal text. */
  readonly before: string;
  readonly after: string;
}

/** How the paper venue takes an order: filled, resting on the book, or refused (nothing placed). */
export type PaperExecution =
  | { readonly kind: "paper"; readonly fill: PaperFill; readonly checks: DecisionChecks }
  | { readonly kind: "rest"; readonly order: WorkingOrder; readonly checks: DecisionChecks }
  | { readonly kind: "refused"; readonly reason: Reason; readonly checks: DecisionChecks };

/**
 * The paper venue (wire-v1 §7a): MARKET fills at the reference price, LIMIT
 * at its own price, at once and in full; with `venues.paper.rest_limits` a
 * LIMIT that does not cross the reference price (or has none) rests as a
 * working order instead, filled later when the price crosses. A
 * `reduce_only` order that would open, grow or flip the position is refused
 * (`venue_error:reduce_only_rejected`), as exchanges do.
 */
export function paperExecution(input: GateInput, ev: Evaluation, plan: OrderPlan): PaperExecution {
  const { policy, facts, entry, now } = input;
  const account = plan.account ?? DEFAULT_ACCOUNT;
  const symbol = plan.symbol;
  const book: PositionRef = { account, symbol, venue: plan.venue, mode: "paper" };
  const beforeText = facts.positions.get(positionKey(book)) ?? "0";
  const before = storedDecimal(beforeText, "ledger position");
  const position = { account, symbol, venue: plan.venue, mode: "paper" as const, expected: beforeText };
  const delta = positionDelta(plan.side, plan.qty);
  if (plan.reduce_only && !reduceOnlyAllows(before, delta))
    return { kind: "refused", reason: reason("venue_error", "reduce_only_rejected"), checks: { position } };
  if (plan.type === "LIMIT" && policy.paperRestLimits) {
    const limit = plan.price as Decimal;
    if (!crosses(plan.side, limit, policy.referencePrices.get(symbol))) {
      const key = claimKey(plan.plan_id, unsignedSourceOf(ev));
      const order: WorkingOrder = {
        key,
        plan_id: plan.plan_id,
        source: plan.source,
        lane: entry.lane,
        stream_id: entry.id,
        venue: plan.venue,
        mode: "paper",
        account,
        symbol,
        side: plan.side,
        qty: formatDecimal(plan.qty),
        price: formatDecimal(limit),
        reduce_only: plan.reduce_only,
        client_order_id: clientOrderId(plan.plan_id),
        order_id: paperOrderId(entry.lane, entry.id),
        fill_qty: "0",
        placed_at: now,
      };
      // A reduce_only order's check against the position is repeated when it fills.
      const checks: DecisionChecks = {
        workingOrders: [{ key, expected: null }],
        ...(plan.reduce_only ? { position } : {}),
      };
      return { kind: "rest", order, checks };
    }
  }
  const price = plan.type === "LIMIT" ? plan.price : pricingPrice(plan, policy.referencePrices.get(symbol));
  if (price === undefined) throw new Error("no fill price after the limits gate");
  const fill: PaperFill = {
    book,
    qty: formatDecimal(plan.qty),
    price: formatDecimal(price),
    before: beforeText,
    after: formatDecimal(positionAfter(before, delta)),
  };
  return { kind: "paper", fill, checks: { position } };
}

/**
 * Whether a LIMIT order at `limit` crosses the reference price, so the paper
 * venue fills it: a BUY at or above it, a SELL at or below it. With no
 * reference price nothing crosses.
 * @example crosses("BUY", 101n, 100n) // true
 */
export function crosses(side: Side, limit: Decimal, reference: Decimal | undefined): boolean {
  if (reference === undefined) return false;
  return side === "BUY" ? limit >= reference : limit <= reference;
}

/** The paper venue's order id for the entry that placed it. */
export const paperOrderId = (lane: string, streamId: string): string => `paper:${lane}:${streamId}`;

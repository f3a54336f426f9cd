import { clientOrderId } from "./clientOrderId.js";
import type { PaperFill } from "./executionPlan.js";
import type { Evaluation } from "./gates/gate.js";
import { paperOrderId } from "./paperExecution.js";
import type { Lane, PlanAction, Side, VenueName } from "./plan.js";
import type { Reason } from "./reasons.js";
import type { DecisionKind, PlanResult } from "./result.js";
import type { WorkingOrder } from "./workingOrder.js";

/** Everything a result is made from. */
export interface ResultParts {
  readonly lane: Lane;
  readonly streamId: string;
  readonly evaluation: Evaluation;
  /** Plan fields readable from an entry that failed gate 1. */
  readonly partial?: Partial<Record<string, unknown>> | undefined;
  readonly decision: DecisionKind;
  readonly error: Reason | null;
  /** The paper fill, when the plan executed on the paper venue. */
  readonly fill?: PaperFill | undefined;
  /** The working order the plan placed (resting) or, for a `cancel`, cancelled. */
  readonly order?: WorkingOrder | undefined;
  readonly now: number;
}

/** Builds the result JSON of wire-v1 §4 for one entry. */
export function buildResult(parts: ResultParts): PlanResult {
  const { evaluation: ev, partial } = parts;
  const plan = ev.parsed?.plan;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const executed = parts.decision === "EXECUTED";
  const fill = executed ? parts.fill : undefined;
  const order = executed ? parts.order : undefined;
  const planId = plan?.plan_id ?? str(partial?.plan_id);
  const placing = plan?.action === "place" ? plan : undefined;
  const action = plan?.action ?? (str(partial?.action) as PlanAction | null) ?? "place";
  return {
    v: 1,
    plan_id: planId,
    stream_id: parts.streamId,
    lane: parts.lane,
    authenticated: ev.authenticated,
    action,
    source: plan?.source ?? str(partial?.source),
    venue: plan?.venue ?? (str(partial?.venue) as VenueName | null),
    account: plan ? (plan.account ?? null) : str(partial?.account),
    symbol: plan?.symbol ?? str(partial?.symbol),
    side: plan ? (placing?.side ?? null) : (str(partial?.side) as Side | null),
    qty: plan ? (placing?.qtyText ?? null) : str(partial?.qty),
    reduce_only: plan
      ? (placing?.reduce_only ?? null)
      : typeof partial?.reduce_only === "boolean"
        ? partial.reduce_only
        : null,
    executed: parts.decision === "EXECUTED",
    decision: parts.decision,
    error: parts.error,
    mode: ev.route?.mode ?? "paper",
    client_order_id: order?.client_order_id ?? (placing && ev.route ? clientOrderId(placing.plan_id) : null),
    order_id: order?.order_id ?? (fill ? paperOrderId(parts.lane, parts.streamId) : null),
    fill_qty: fill?.qty ?? (order && placing ? order.fill_qty : null),
    avg_price: fill?.price ?? null,
    ...(ev.reference === undefined ? {} : { reference: ev.reference.used }),
    timestamp: parts.now,
  };
}

import { clientOrderId } from "./clientOrderId.js";
import type { PaperFill } from "./executionPlan.js";
import type { Evaluation } from "./gates/gate.js";
import type { Lane, Side, VenueName } from "./plan.js";
import type { Reason } from "./reasons.js";
import type { DecisionKind, PlanResult } from "./result.js";

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
  readonly now: number;
}

/** Builds the result JSON of wire-v1 §4 for one entry. */
export function buildResult(parts: ResultParts): PlanResult {
  const { evaluation: ev, partial } = parts;
  const plan = ev.parsed?.plan;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const fill = parts.decision === "EXECUTED" ? parts.fill : undefined;
  const planId = plan?.plan_id ?? str(partial?.plan_id);
  return {
    v: 1,
    plan_id: planId,
    stream_id: parts.streamId,
    lane: parts.lane,
    authenticated: ev.authenticated,
    source: plan?.source ?? str(partial?.source),
    venue: plan?.venue ?? (str(partial?.venue) as VenueName | null),
    symbol: plan?.symbol ?? str(partial?.symbol),
    side: plan?.side ?? (str(partial?.side) as Side | null),
    qty: plan?.qtyText ?? str(partial?.qty),
    reduce_only:
      plan?.reduce_only ?? (typeof partial?.reduce_only === "boolean" ? partial.reduce_only : null),
    executed: parts.decision === "EXECUTED",
    decision: parts.decision,
    error: parts.error,
    mode: ev.route?.mode ?? "paper",
    client_order_id: plan && ev.route ? clientOrderId(plan.plan_id) : null,
    order_id: fill ? `paper:${parts.lane}:${parts.streamId}` : null,
    fill_qty: fill?.qty ?? null,
    avg_price: fill?.price ?? null,
    timestamp: parts.now,
  };
}

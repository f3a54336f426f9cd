import type { Lane, PlanAction, Side, VenueName } from "./plan.js";
import type { Reason } from "./reasons.js";
import type { ReferenceUsed } from "./referencePrice.js";

/** The four outcomes a result can record (wire-v1 §4). */
export type DecisionKind = "EXECUTED" | "DENIED" | "FAILED" | "UNKNOWN";

/** One result entry's JSON (wire-v1 §4), written once per plan entry. */
export interface PlanResult {
  v: 1;
  plan_id: string | null;
  stream_id: string;
  lane: Lane;
  authenticated: boolean;
  /** What the plan asked for; `place` when it could not be read. */
  action: PlanAction;
  source: string | null;
  venue: VenueName | null;
  /** The plan's account (`default` for a paper plan naming none); null when unreadable. */
  account: string | null;
  symbol: string | null;
  side: Side | null;
  qty: string | null;
  reduce_only: boolean | null;
  executed: boolean;
  decision: DecisionKind;
  /** A registered reason (wire §6), or null when executed. */
  error: Reason | null;
  mode: "paper" | "live";
  client_order_id: string | null;
  order_id: string | null;
  fill_qty: string | null;
  avg_price: string | null;
  /** The reference price the decision used (gate 9), when it used one: which, from where, read when. */
  reference?: ReferenceUsed;
  timestamp: number;
  reconciled?: true;
}

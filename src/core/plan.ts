import type { Decimal } from "./decimal.js";

/** Plan stream lanes (wire-v1 §1). */
export type Lane = "main" | "manual";
export const LANES: readonly Lane[] = ["main", "manual"];

export type Side = "BUY" | "SELL";
export type OrderType = "MARKET" | "LIMIT";
export type TradingState = "ACTIVE" | "REDUCING" | "HALTED";
export const TRADING_STATES: readonly TradingState[] = ["ACTIVE", "REDUCING", "HALTED"];

/** Venues named by the wire contract. */
export type VenueName = "paper" | "binance-usdm" | "polymarket";
export const VENUES: readonly VenueName[] = ["paper", "binance-usdm", "polymarket"];
/** The venues orders can go to live (every venue but `paper`). */
export const LIVE_VENUES = ["binance-usdm", "polymarket"] as const satisfies readonly VenueName[];

/** What a plan asks for (wire-v1 §3 `action`; absent means `place`). */
export type PlanAction = "place" | "cancel" | "cancel_all";
export const PLAN_ACTIONS: readonly PlanAction[] = ["place", "cancel", "cancel_all"];

/** Fields every plan has, whatever its action. */
interface PlanCommon {
  readonly v: 1;
  readonly plan_id: string;
  readonly source: string;
  readonly venue: VenueName;
  readonly account: string | undefined;
  readonly created_at: number;
  readonly expires_at: number | undefined;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

/** A plan to place an order (`action: "place"`), with money parsed exactly. */
export interface OrderPlan extends PlanCommon {
  readonly action: "place";
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: Decimal;
  /** `qty` as the producer wrote it (string form), echoed in results. */
  readonly qtyText: string;
  readonly price: Decimal | undefined;
  readonly reduce_only: boolean;
  readonly permit: string | undefined;
}

/** A plan to cancel the working order placed for `target_plan_id` (`action: "cancel"`). */
export interface CancelPlan extends PlanCommon {
  readonly action: "cancel";
  readonly symbol: string;
  readonly target_plan_id: string;
}

/** A plan to cancel every working order of `account` on `venue`, of `symbol` when given (`action: "cancel_all"`). */
export interface CancelAllPlan extends PlanCommon {
  readonly action: "cancel_all";
  readonly symbol: string | undefined;
}

/** A plan that passed gate 1 (wire-v1 §3). */
export type Plan = OrderPlan | CancelPlan | CancelAllPlan;

/** True for a plan that places an order. */
export const isOrderPlan = (plan: Plan): plan is OrderPlan => plan.action === "place";

/** Paper account used when a paper plan names none. */
export const DEFAULT_ACCOUNT = "default";

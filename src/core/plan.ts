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

/** A plan that passed gate 1 (wire-v1 §3), with money parsed exactly. */
export interface Plan {
  readonly v: 1;
  readonly plan_id: string;
  readonly source: string;
  readonly venue: VenueName;
  readonly account: string | undefined;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: Decimal;
  /** `qty` as the producer wrote it (string form), echoed in results. */
  readonly qtyText: string;
  readonly price: Decimal | undefined;
  readonly reduce_only: boolean;
  readonly created_at: number;
  readonly expires_at: number | undefined;
  readonly permit: string | undefined;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

/** Paper account used when a paper plan names none. */
export const DEFAULT_ACCOUNT = "default";

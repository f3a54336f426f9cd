import type { Lane, Side, VenueName } from "./plan.js";

/**
 * An order that did not finish with its result (wire-v1 §4a): a LIMIT order
 * resting on the book. The ledger holds one per {@link WorkingOrder.key},
 * written atomically with the result that placed it, and removed atomically
 * with the order event that ends it (a fill in full, a cancel).
 */
export interface WorkingOrder {
  /** The placing plan's claim key (`claimKey(plan_id, unsigned source)`): one working order per claim. */
  readonly key: string;
  readonly plan_id: string;
  /** The source that placed it: only it, the exit owner or the manual lane may cancel it (gate 4). */
  readonly source: string;
  readonly lane: Lane;
  readonly stream_id: string;
  readonly venue: VenueName;
  /** `paper` for an order resting on the paper venue (also a live venue's dry run), `live` at the venue. */
  readonly mode: "paper" | "live";
  readonly account: string;
  readonly symbol: string;
  readonly side: Side;
  /** Canonical decimal text. */
  readonly qty: string;
  /** The limit price, canonical decimal text. */
  readonly price: string;
  readonly reduce_only: boolean;
  readonly client_order_id: string;
  readonly order_id: string;
  /** Cumulative filled quantity, canonical decimal text ("0" while nothing filled). */
  readonly fill_qty: string;
  /** When it was placed (the decision time), ms since epoch. */
  readonly placed_at: number;
}

/** The field order of {@link encodeWorkingOrder}: fixed, so equal orders encode to equal text. */
const FIELDS = [
  "key",
  "plan_id",
  "source",
  "lane",
  "stream_id",
  "venue",
  "mode",
  "account",
  "symbol",
  "side",
  "qty",
  "price",
  "reduce_only",
  "client_order_id",
  "order_id",
  "fill_qty",
  "placed_at",
] as const satisfies readonly (keyof WorkingOrder)[];

/**
 * The one text a ledger stores for a working order. Commits compare the
 * stored text with the text a decision read (`DecisionChecks.workingOrders`),
 * so the encoding is canonical: fixed field order, no other fields.
 */
export function encodeWorkingOrder(order: WorkingOrder): string {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = order[f];
  return JSON.stringify(out);
}

/**
 * Reads a stored working order back; throws on text that is not one (a
 * corrupt ledger is never decided on a guess).
 */
export function decodeWorkingOrder(text: string): WorkingOrder {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null) throw new Error("working order is not an object");
  const o = value as Record<string, unknown>;
  for (const f of FIELDS) {
    const want = f === "placed_at" ? "number" : f === "reduce_only" ? "boolean" : "string";
    if (typeof o[f] !== want) throw new Error(`working order field ${f} is not a ${want}`);
  }
  return o as unknown as WorkingOrder;
}

/** A working order as it was read: the order and the exact text stored for it. */
export interface StoredWorkingOrder {
  readonly order: WorkingOrder;
  readonly text: string;
}

/** Which working orders a cancel-all reaches: one account on one venue, of one symbol when given. */
export interface OrderScope {
  readonly venue: VenueName;
  readonly account: string;
  readonly symbol?: string | undefined;
}

/** True when `order` is inside `scope`. */
export function inScope(order: WorkingOrder, scope: OrderScope): boolean {
  return (
    order.venue === scope.venue &&
    order.account === scope.account &&
    (scope.symbol === undefined || order.symbol === scope.symbol)
  );
}

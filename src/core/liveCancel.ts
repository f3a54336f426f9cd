import { ORDER_NOT_OPEN } from "./cancelExecution.js";
import type { Decision } from "./decision.js";
import { type OrderEvent, orderEventOf } from "./orderEvent.js";
import type { OrderUpdate } from "./orderUpdate.js";
import type { Lane, VenueName } from "./plan.js";
import { type Reason, reason } from "./reasons.js";
import type { PlanResult } from "./result.js";
import type { OrderRef, VenueOrderState } from "./venueOrder.js";
import { encodeWorkingOrder, type WorkingOrder } from "./workingOrder.js";

/**
 * A cancel plan's working orders at a live venue (wire-v1 §3 `cancel`,
 * `cancel_all`): the executor cancels each at the venue before the plan's
 * result is committed ({@link completeLiveCancel}).
 */
export interface LiveCancel {
  readonly venue: Exclude<VenueName, "paper">;
  readonly orders: readonly WorkingOrder[];
}

/** How the cancel of one order ended at the venue, as the executor worked it out. */
export type OrderCancelOutcome =
  /** The venue holds it cancelled (by this request, or by an earlier one whose answer was lost). */
  | { readonly kind: "canceled"; readonly state: VenueOrderState }
  /** It ended otherwise (filled): nothing cancelled; the order follower records how it ended. */
  | { readonly kind: "not_open" }
  /** Refused (a signer denial, a rate limit): nothing cancelled. */
  | { readonly kind: "rejected"; readonly reason: Reason; readonly rateLimited?: boolean }
  /** Not known whether it was cancelled. */
  | { readonly kind: "unknown"; readonly detail: string };

/**
 * How a live order is found again from its working order: Polymarket finds
 * orders by their hash (the venue's order id), Binance by client order id.
 */
export function orderRefOf(order: WorkingOrder): OrderRef {
  return {
    venue: order.venue,
    account: order.account,
    symbol: order.symbol,
    clientOrderId: order.client_order_id,
    venueRef: order.venue === "polymarket" ? order.order_id : order.client_order_id,
  };
}

/**
 * The `CANCELED` event of a working order the venue cancelled, with the fill
 * the venue reports (what filled before the cancel stays filled).
 */
export function canceledEvent(
  order: WorkingOrder,
  state: VenueOrderState,
  cause: OrderEvent["cause"],
  now: number,
): OrderEvent {
  return orderEventOf(order, {
    kind: state.status === "expired" ? "EXPIRED" : "CANCELED",
    fillQty: state.fillQty,
    avgPrice: state.avgPrice,
    cause,
    now,
  });
}

/**
 * The durable record of a live cancel plan whose venue answer is not known
 * for every order (wire-v1 §3 `cancel`: "a cancel whose outcome is unknown
 * is `UNKNOWN` and reconciled like an order"). Written by the plan's stage-1
 * commit, together with the `CANCELED` events of the orders already known
 * cancelled; `Ledger.finishSend` then writes the plan's `UNKNOWN` result
 * ({@link unknownCancelResult}) and keeps the record as an open UNKNOWN
 * until {@link reconcileCancel} can write its one `reconciled: true`
 * follow-up. While it is open, the order follower leaves its orders alone.
 */
export interface CancelRecord {
  readonly kind: "cancel";
  readonly lane: Lane;
  readonly streamId: string;
  /** When the cancels were sent (ms). */
  readonly startedAt: number;
  /** The plan's result as decided (`EXECUTED`), before the venue answered. */
  readonly result: PlanResult;
  readonly venue: Exclude<VenueName, "paper">;
  /** The orders whose cancel was not answered, as stored when the plan was decided. */
  readonly orders: readonly WorkingOrder[];
  /** Whether the plan already cancelled one of its orders (its event is written): it then ends `EXECUTED`. */
  readonly canceled: boolean;
  /** The first refusal among the orders answered so far: the final reason if none is cancelled. */
  readonly refused: Reason | null;
  /** What the venue or adapter said of the first unanswered cancel, for the log. */
  readonly detail: string;
}

/**
 * Completes a live cancel plan's decision once the venue answered for its
 * orders (`outcomes` in `decision.liveCancel.orders` order). Any order
 * cancelled → `EXECUTED`, each cancelled order removed with its `CANCELED`
 * event (`cause: plan:<plan_id>`); else the first refusal's reason, else
 * `FAILED venue_error:order_not_open`. When any answer is unknown, the
 * decision becomes the plan's stage 1 instead: it carries a
 * {@link CancelRecord} of the unanswered orders (and writes the events of
 * those already cancelled), and its `UNKNOWN` result follows.
 */
export function completeLiveCancel(
  decision: Decision,
  outcomes: readonly OrderCancelOutcome[],
  now: number,
): Decision {
  const cancel = decision.liveCancel;
  const orders = cancel?.orders ?? [];
  if (cancel === undefined || outcomes.length !== orders.length)
    throw new Error("one cancel outcome per order of a live cancel");
  const { liveCancel: _cancel, ...rest } = decision;
  const cause = `plan:${decision.result.plan_id}` as const;
  const events: OrderEvent[] = [];
  const closed: string[] = [];
  const unanswered: WorkingOrder[] = [];
  let detail = "";
  outcomes.forEach((o, i) => {
    const order = orders[i] as WorkingOrder;
    if (o.kind === "unknown") {
      unanswered.push(order);
      detail ||= o.detail;
    }
    if (o.kind !== "canceled") return;
    events.push(canceledEvent(order, o.state, cause, now));
    closed.push(order.key);
  });
  const effects =
    closed.length > 0 ? { ...decision.effects, closeOrders: closed, orderEvents: events } : decision.effects;
  const refused = firstRefusal(outcomes);
  if (unanswered.length > 0) {
    const record: CancelRecord = {
      kind: "cancel",
      lane: decision.lane,
      streamId: decision.streamId,
      startedAt: now,
      result: { ...decision.result, timestamp: now },
      venue: cancel.venue,
      orders: unanswered,
      canceled: closed.length > 0,
      refused,
      detail,
    };
    return { ...rest, effects, sendRecord: record };
  }
  return { ...rest, effects, result: finalCancelResult(decision.result, closed.length > 0, refused, now) };
}

/** The `UNKNOWN` result a live cancel plan gets while a {@link CancelRecord} is open for it. */
export function unknownCancelResult(record: CancelRecord, now: number): PlanResult {
  return {
    ...record.result,
    decision: "UNKNOWN",
    executed: false,
    error: CANCEL_UNKNOWN,
    timestamp: now,
  };
}

/** What reconciling an open {@link CancelRecord} writes, once every order's cancel is answered. */
export interface CancelReconciliation {
  /** The one `reconciled: true` follow-up. */
  readonly result: PlanResult;
  /** The `CANCELED` event (`cause: plan:<plan_id>`) of each order cancelled and still stored as working. */
  readonly updates: readonly OrderUpdate[];
}

/**
 * Reconciles an open cancel record from the venue's answers for its orders
 * (`outcomes` in `record.orders` order; `stored` is each order as the ledger
 * holds it now, absent once it ended): `undefined` while any answer is still
 * unknown; else the plan's follow-up, decided as {@link completeLiveCancel}
 * decides (counting the orders the plan cancelled before), with the
 * `CANCELED` events to write for the orders now known cancelled.
 */
export function reconcileCancel(
  record: CancelRecord,
  outcomes: readonly OrderCancelOutcome[],
  stored: ReadonlyMap<string, WorkingOrder>,
  now: number,
): CancelReconciliation | undefined {
  if (outcomes.length !== record.orders.length)
    throw new Error("one cancel outcome per order of a cancel record");
  if (outcomes.some((o) => o.kind === "unknown")) return undefined;
  const cause = `plan:${record.result.plan_id}` as const;
  const updates: OrderUpdate[] = [];
  outcomes.forEach((o, i) => {
    const order = stored.get((record.orders[i] as WorkingOrder).key);
    if (o.kind !== "canceled" || order === undefined) return;
    updates.push({
      key: order.key,
      expected: encodeWorkingOrder(order),
      next: null,
      event: canceledEvent(order, o.state, cause, now),
    });
  });
  const canceled = record.canceled || outcomes.some((o) => o.kind === "canceled");
  const result = finalCancelResult(record.result, canceled, record.refused ?? firstRefusal(outcomes), now);
  return { result: { ...result, reconciled: true }, updates };
}

/** `error` of a live cancel plan's `UNKNOWN` result. */
export const CANCEL_UNKNOWN: Reason = reason("venue_error", "cancel_unknown");

function firstRefusal(outcomes: readonly OrderCancelOutcome[]): Reason | null {
  const refused = outcomes.find((o) => o.kind === "rejected");
  return refused?.kind === "rejected" ? refused.reason : null;
}

function finalCancelResult(
  decided: PlanResult,
  canceled: boolean,
  refused: Reason | null,
  now: number,
): PlanResult {
  if (canceled) return { ...decided, timestamp: now };
  return {
    ...decided,
    decision: "FAILED",
    executed: false,
    error: refused ?? ORDER_NOT_OPEN,
    client_order_id: null,
    order_id: null,
    timestamp: now,
  };
}

/**
 * A live cancel decision whose orders filled more before the venue
 * cancelled them than the ledger held: `filled` (by key) are those orders as
 * stored since (their `FILL` written, their book moved, `encodeWorkingOrder`
 * text the new expected one), so the decision cancels them from there and
 * its `CANCELED` events close them as stored. Other orders are left as read.
 */
export function withFilledOrders(decision: Decision, filled: ReadonlyMap<string, WorkingOrder>): Decision {
  const cancel = decision.liveCancel;
  if (cancel === undefined || filled.size === 0) return decision;
  const orders = cancel.orders.map((o) => filled.get(o.key) ?? o);
  const checks = decision.checks.workingOrders?.map((c) => {
    const next = filled.get(c.key);
    return next === undefined ? c : { key: c.key, expected: encodeWorkingOrder(next) };
  });
  return {
    ...decision,
    liveCancel: { ...cancel, orders },
    checks: checks === undefined ? decision.checks : { ...decision.checks, workingOrders: checks },
  };
}

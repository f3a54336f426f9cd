import type { Lane, VenueName } from "./plan.js";
import { type Reason, reason, type VenueErrorDetail } from "./reasons.js";
import type { DecisionKind, PlanResult } from "./result.js";
import type { OrderGuard, OrderRef, VenueOrder, VenueOrderState } from "./venueOrder.js";
import type { WorkingOrder } from "./workingOrder.js";

/**
 * An order an accepted plan sends to a live venue, as the execution gate
 * worked it out: the order, and the guard context the signing plane is told.
 */
export interface LiveOrder {
  readonly venue: Exclude<VenueName, "paper">;
  readonly order: VenueOrder;
  readonly guard: OrderGuard;
  /**
   * For a LIMIT order, the working order it becomes if it rests on the book
   * (`order_id` "" and `fill_qty` "0" until the venue answers): stored with
   * its result so the order is followed (wire-v1 §4a).
   */
  readonly working?: WorkingOrder;
}

/**
 * The durable record that a live order is being sent, or was sent with an
 * unknown outcome (wire-v1 §6 `UNKNOWN`). Written before the send, in the
 * same atomic step as the decision's claims; while it exists for a pending
 * entry, that entry is never sent again, only reconciled by asking the venue.
 */
export interface SendRecord {
  /** `"order"` or absent (records written before cancels had records of their own: `CancelRecord`). */
  readonly kind?: "order";
  readonly lane: Lane;
  readonly streamId: string;
  /** How to find the order at the venue. */
  readonly ref: OrderRef;
  /** When the send may have started (ms): `not_found` is final only after `startedAt + venue.inFlightMs`. */
  readonly startedAt: number;
  /** The result as decided, before the venue answered; completed by {@link completeResult}. */
  readonly result: PlanResult;
  /** {@link LiveOrder.working}: what is stored as working when the order rests. */
  readonly working?: WorkingOrder;
}

/**
 * The working order a live order's outcome leaves, stored atomically with
 * its result: the record's LIMIT order when the venue holds it `open`
 * (resting, perhaps partly filled), with the venue's order id and fill so
 * far; `undefined` when nothing rests.
 */
export function restingOrder(record: SendRecord, outcome: LiveOutcome): WorkingOrder | undefined {
  if (record.working === undefined || outcome.kind !== "order" || outcome.state.status !== "open")
    return undefined;
  return { ...record.working, order_id: outcome.state.orderId, fill_qty: outcome.state.fillQty };
}

/** Map key of a send record: `<lane>:<stream_id>` (the ledgers' field name too). */
export const sendKey = (r: { readonly lane: Lane; readonly streamId: string }): string =>
  `${r.lane}:${r.streamId}`;

/** How a live order ended, as far as the executor knows. */
export type LiveOutcome =
  | { readonly kind: "order"; readonly state: VenueOrderState }
  | { readonly kind: "failed"; readonly reason: Reason }
  /** Refused before anything reached the venue (e.g. `venue_not_ready`: the signing plane went away). */
  | { readonly kind: "denied"; readonly reason: Reason }
  | { readonly kind: "unknown"; readonly detail: VenueErrorDetail };

/**
 * The final or `UNKNOWN` result for a send record. An order the venue holds
 * is `EXECUTED` (placed), unless it ended `rejected`/`expired`/`canceled`
 * with nothing filled, which is `FAILED` / `venue_error:<status>`.
 */
export function completeResult(
  record: SendRecord,
  outcome: LiveOutcome,
  now: number,
  reconciled: boolean,
): PlanResult {
  const base = record.result;
  const done = (decision: DecisionKind, error: Reason | null, state?: VenueOrderState): PlanResult => {
    const r: PlanResult = {
      ...base,
      executed: decision === "EXECUTED",
      decision,
      error,
      mode: "live",
      client_order_id: record.ref.clientOrderId,
      order_id: state?.orderId ?? null,
      fill_qty: decision === "EXECUTED" ? (state?.fillQty ?? null) : null,
      avg_price: decision === "EXECUTED" ? (state?.avgPrice ?? null) : null,
      timestamp: now,
    };
    if (reconciled) r.reconciled = true;
    else delete r.reconciled;
    return r;
  };
  switch (outcome.kind) {
    case "order": {
      const s = outcome.state;
      const nothingFilled = /^0(\.0*)?$/.test(s.fillQty);
      if (s.status !== "open" && s.status !== "filled" && nothingFilled)
        return done("FAILED", reason("venue_error", s.status), s);
      return done("EXECUTED", null, s);
    }
    case "failed":
      return done("FAILED", outcome.reason);
    case "denied":
      return done("DENIED", outcome.reason);
    case "unknown":
      return done("UNKNOWN", reason("venue_error", outcome.detail));
  }
}

import type { Decision } from "../core/decision.js";
import { completeLiveCancel, type OrderCancelOutcome, orderRefOf } from "../core/liveCancel.js";
import type { VenueName } from "../core/plan.js";
import type { WorkingOrder } from "../core/workingOrder.js";
import type { Venue } from "../ports/venue.js";

/** Where cancels report failures that are not venue answers (a thrown adapter), for logs. */
export interface LiveCancelObserver {
  failed(err: unknown, during: string): void;
}

/**
 * Cancels one live working order at its venue and works out how it ended
 * (the one place that reads a venue's cancel answers; cancel plans and the
 * order follower both use it). A cancel the venue answers `not_open` is
 * looked up: found cancelled or expired counts as cancelled (an earlier
 * cancel whose answer was lost), filled as `not_open`; anything the venue
 * cannot answer for is `unknown`, never a guess.
 */
export async function cancelAtVenue(
  venue: Venue | undefined,
  order: WorkingOrder,
  observer: LiveCancelObserver,
): Promise<OrderCancelOutcome> {
  if (venue === undefined) return { kind: "unknown", detail: "venue_gone" };
  const ref = orderRefOf(order);
  try {
    const answer = await venue.cancel(ref);
    switch (answer.kind) {
      case "canceled": {
        const { kind: _k, ...state } = answer;
        return { kind: "canceled", state };
      }
      case "rejected":
        return { kind: "rejected", reason: answer.reason, rateLimited: answer.rateLimited };
      case "unknown":
        return { kind: "unknown", detail: answer.detail };
      case "not_open":
        break;
    }
    const look = await venue.lookup(ref);
    if (look.kind !== "found") return { kind: "unknown", detail: `not_open_then_${look.kind}` };
    const { kind: _k, ...state } = look;
    if (state.status === "canceled" || state.status === "expired") return { kind: "canceled", state };
    if (state.status === "open") return { kind: "unknown", detail: "not_open_but_open" };
    return { kind: "not_open" };
  } catch (err) {
    observer.failed(err, "venue.cancel");
    return { kind: "unknown", detail: "internal_error" };
  }
}

/**
 * Carries out cancel plans whose orders are at a live venue: cancels each
 * order there, then completes the decision (`completeLiveCancel`) for the
 * ledger's atomic commit. A decision with an unknown answer is returned as
 * `undefined`: its entry stays pending and is decided again when reclaimed.
 */
export class LiveCancels {
  readonly #venues: () => ReadonlyMap<VenueName, Venue>;
  readonly #observer: LiveCancelObserver;
  readonly #clock: () => number;

  constructor(deps: {
    readonly venues: () => ReadonlyMap<VenueName, Venue>;
    readonly observer: LiveCancelObserver;
    readonly clock: () => number;
  }) {
    this.#venues = deps.venues;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
  }

  /** Completes each live cancel decision (others are returned as they are); `undefined`: leave pending. */
  async complete(decisions: readonly Decision[]): Promise<(Decision | undefined)[]> {
    return Promise.all(
      decisions.map(async (decision) => {
        const cancel = decision.liveCancel;
        if (cancel === undefined) return decision;
        const venue = this.#venues().get(cancel.venue);
        const outcomes = await Promise.all(
          cancel.orders.map((order) => cancelAtVenue(venue, order, this.#observer)),
        );
        return completeLiveCancel(decision, outcomes, this.#clock());
      }),
    );
  }
}

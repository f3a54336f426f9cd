import type { Decision } from "../core/decision.js";
import {
  type CancelRecord,
  completeLiveCancel,
  type OrderCancelOutcome,
  orderRefOf,
  reconcileCancel,
  unknownCancelResult,
  withFilledOrders,
} from "../core/liveCancel.js";
import { followLiveOrder } from "../core/liveOrderUpdate.js";
import type { VenueName } from "../core/plan.js";
import type { WorkingOrder } from "../core/workingOrder.js";
import type { Ledger } from "../ports/ledger.js";
import type { Venue } from "../ports/venue.js";
import { withLiveFillsNow } from "./liveBooks.js";
import type { LiveOrderObserver } from "./liveOrders.js";

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
 * ledger's atomic commit. A plan with an unknown answer is committed as
 * stage 1 with its `CancelRecord`; {@link LiveCancels.finish} then writes
 * its `UNKNOWN` result, and {@link LiveCancels.reconcile} later asks the
 * venue again until it can write the one `reconciled: true` follow-up.
 */
export class LiveCancels {
  readonly #venues: () => ReadonlyMap<VenueName, Venue>;
  readonly #ledger: Pick<Ledger, "finishSend" | "reconcile" | "updateOrders" | "workingOrders" | "readFacts">;
  readonly #observer: LiveOrderObserver;
  readonly #clock: () => number;

  constructor(deps: {
    readonly venues: () => ReadonlyMap<VenueName, Venue>;
    readonly ledger: Pick<
      Ledger,
      "finishSend" | "reconcile" | "updateOrders" | "workingOrders" | "readFacts"
    >;
    readonly observer: LiveOrderObserver;
    readonly clock: () => number;
  }) {
    this.#venues = deps.venues;
    this.#ledger = deps.ledger;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
  }

  /** Completes each live cancel decision (others are returned as they are): final, or stage 1 with a `CancelRecord`. */
  async complete(decisions: readonly Decision[]): Promise<Decision[]> {
    return Promise.all(
      decisions.map(async (decision) => {
        const cancel = decision.liveCancel;
        if (cancel === undefined) return decision;
        const outcomes = await this.#cancelAll(cancel.venue, cancel.orders);
        const filled = await this.#bookFillsBeforeCancel(decision, outcomes);
        return completeLiveCancel(withFilledOrders(decision, filled), outcomes, this.#clock());
      }),
    );
  }

  /**
   * Stage 2 of a cancel whose answer is unknown (after its stage-1 commit, or
   * when its entry is redelivered with the record): writes the `UNKNOWN`
   * result, acknowledges the entry and keeps the record open.
   */
  async finish(record: CancelRecord, startedAt: number): Promise<void> {
    const result = unknownCancelResult(record, this.#clock());
    const done = await this.#ledger.finishSend(record, result);
    if (done === "committed") this.#observer.decided(result, (performance.now() - startedAt) / 1000);
    else this.#observer.duplicate(record.lane, record.streamId);
  }

  /**
   * Reconciles an open cancel record: cancels its orders again (a cancelled
   * order answers `not_open` and is looked up as cancelled, so asking again
   * is safe and also finishes a cancel that never arrived). Once every
   * answer is known, writes each cancelled order's `CANCELED` event
   * (conditional, so never twice) and then the plan's one `reconciled: true`
   * follow-up. Returns whether the record is closed.
   */
  async reconcile(record: CancelRecord): Promise<boolean> {
    const t0 = performance.now();
    const outcomes = await this.#cancelAll(record.venue, record.orders);
    if (outcomes.some((o) => o.kind === "unknown")) return false;
    const stored = new Map((await this.#ledger.workingOrders(record.venue)).map((o) => [o.key, o]));
    const done = reconcileCancel(record, outcomes, stored, this.#clock());
    if (done === undefined) return false;
    // An update that conflicts found its order already ended (an earlier pass of this reconcile).
    if (done.updates.length > 0) {
      // reconcileCancel updates only orders it found stored: each has its order here
      const pairs = done.updates.flatMap((update) => {
        const order = stored.get(update.key);
        return order === undefined ? [] : [{ order, update }];
      });
      await this.#ledger.updateOrders(await withLiveFillsNow(this.#ledger, pairs));
    }
    const written = await this.#ledger.reconcile(record, done.result);
    if (written === "committed") this.#observer.decided(done.result, (performance.now() - t0) / 1000);
    else this.#observer.duplicate(record.lane, record.streamId);
    return true;
  }

  /**
   * What the orders of a cancel filled since the ledger last saw them, as the
   * venue reports it with their cancel: written first as their `FILL`
   * events, moving their live books (one conditional `updateOrders` step),
   * so the plan's commit then closes them from there. Returns the orders so
   * written, by key; one whose update conflicts (the follower wrote it
   * first) is left as read, and the plan's commit conflicts on it.
   */
  async #bookFillsBeforeCancel(
    decision: Decision,
    outcomes: readonly OrderCancelOutcome[],
  ): Promise<Map<string, WorkingOrder>> {
    const orders = decision.liveCancel?.orders ?? [];
    const stored = new Map(decision.checks.workingOrders?.map((c) => [c.key, c.expected]) ?? []);
    const now = this.#clock();
    const found = orders.flatMap((order, i) => {
      const o = outcomes[i];
      const text = stored.get(order.key);
      if (o?.kind !== "canceled" || order.mode !== "live" || typeof text !== "string") return [];
      const update = followLiveOrder(order, { ...o.state, status: "open" }, now);
      return update === undefined ? [] : [{ order, update: { ...update, expected: text } }];
    });
    if (found.length === 0) return new Map();
    const updates = await withLiveFillsNow(this.#ledger, found);
    const applied = await this.#ledger.updateOrders(updates);
    const filled = new Map<string, WorkingOrder>();
    applied.forEach((a, i) => {
      const next = updates[i]?.next;
      if (a === "applied" && next) filled.set(next.key, next);
    });
    return filled;
  }

  #cancelAll(venueName: VenueName, orders: readonly WorkingOrder[]): Promise<OrderCancelOutcome[]> {
    const venue = this.#venues().get(venueName);
    return Promise.all(orders.map((order) => cancelAtVenue(venue, order, this.#observer)));
  }
}

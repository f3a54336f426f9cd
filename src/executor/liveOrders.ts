import { parseDecimal } from "../core/decimal.js";
import type { Decision } from "../core/decision.js";
import { type PositionMove, positionKey } from "../core/facts.js";
import { liveBook, liveFillMove } from "../core/liveFill.js";
import { completeResult, type LiveOutcome, restingOrder, type SendRecord } from "../core/liveOrder.js";
import { isCancelRecord, type OpenRecord } from "../core/openRecord.js";
import type { VenueName } from "../core/plan.js";
import { type Reason, reason, type VenueErrorDetail } from "../core/reasons.js";
import type { PlanResult } from "../core/result.js";
import type { Ledger, LiveFinish, LiveFinishOutcome } from "../ports/ledger.js";
import type { LookupOutcome, PreparedOrder, Venue } from "../ports/venue.js";
import { readBooks } from "./liveBooks.js";
import type { LiveCancels } from "./liveCancels.js";

/** What live orders report, for logs and metrics. */
export interface LiveOrderObserver {
  /** A result (first or reconciled) was written. */
  decided(result: PlanResult, seconds: number): void;
  duplicate(lane: string, streamId: string): void;
  failed(err: unknown, during: string): void;
}

/** A decision ready for stage 1, with what stage 2 needs. */
export interface PreparedLive {
  readonly decision: Decision;
  /** Absent when the venue refused to prepare: `decision` is then a final FAILED/DENIED. */
  readonly prepared?: PreparedOrder;
}

/**
 * Live orders through their stages (wire-v1 §6 `UNKNOWN`; docs/architecture.md
 * "Live orders"): prepare at the venue (which may sign through the signing
 * plane) → stage 1 commit records the send → send once → stage 2 writes the
 * result. A redelivered entry with a send record is never sent again, only
 * looked up; open UNKNOWNs are reconciled by client order id (or the venue's
 * order hash) with exactly one `reconciled: true` follow-up. The records
 * of live cancels whose answer was unknown are handed to `cancels`.
 */
export class LiveOrders {
  readonly #venues: () => ReadonlyMap<VenueName, Venue>;
  readonly #ledger: Ledger;
  readonly #observer: LiveOrderObserver;
  readonly #clock: () => number;
  readonly #cancels: Pick<LiveCancels, "finish" | "reconcile">;

  constructor(deps: {
    venues: () => ReadonlyMap<VenueName, Venue>;
    ledger: Ledger;
    observer: LiveOrderObserver;
    clock: () => number;
    cancels: Pick<LiveCancels, "finish" | "reconcile">;
  }) {
    this.#venues = deps.venues;
    this.#ledger = deps.ledger;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
    this.#cancels = deps.cancels;
  }

  /**
   * Prepares every live decision at its venue. A refusal (a venue rule, a
   * signer denial) turns the decision into a final one with that reason and
   * the same checks and claims; an accepted one gets its send record. A venue
   * that cannot go live now (its adapter gone, the signing plane unreachable
   * or unable to read the key) is `DENIED venue_not_ready:<venue>`, the same
   * for every venue (wire-v1 §6 gate 10).
   */
  async prepare(decisions: readonly Decision[]): Promise<PreparedLive[]> {
    return Promise.all(
      decisions.map(async (decision): Promise<PreparedLive> => {
        const live = decision.live;
        if (!live) return { decision };
        const venue = this.#venues().get(live.venue);
        // A refused order placed nothing: it does not mark its content for the duplicate window.
        const { markDuplicate: _placed, ...effects } = decision.effects;
        const refuse = (why: Reason, kind: "DENIED" | "FAILED"): PreparedLive => ({
          decision: {
            ...withoutLive(decision),
            effects,
            result: { ...decision.result, decision: kind, executed: false, error: why, mode: "live" },
          },
        });
        if (!venue) return refuse(reason("venue_not_ready", live.venue), "DENIED");
        let outcome: Awaited<ReturnType<Venue["prepare"]>>;
        try {
          outcome = await venue.prepare(live.order, live.guard);
        } catch (err) {
          this.#observer.failed(err, "venue.prepare");
          return refuse(reason("internal_error"), "FAILED");
        }
        if (!outcome.ok) {
          if (outcome.reason === SIGNER_UNAVAILABLE)
            return refuse(reason("venue_not_ready", live.venue), "DENIED");
          return refuse(outcome.reason, outcome.decision);
        }
        const record: SendRecord = {
          lane: decision.lane,
          streamId: decision.streamId,
          ref: outcome.prepared.ref,
          startedAt: this.#clock(),
          result: { ...decision.result, mode: "live", client_order_id: outcome.prepared.ref.clientOrderId },
          ...(live.working ? { working: live.working } : {}),
        };
        return { decision: { ...decision, sendRecord: record }, prepared: outcome.prepared };
      }),
    );
  }

  /** Sends a stage-1-committed order once and writes its result (stage 2). */
  async send(record: SendRecord, prepared: PreparedOrder, startedAt: number): Promise<void> {
    const venue = this.#venues().get(record.ref.venue);
    let outcome: LiveOutcome;
    if (!venue) outcome = { kind: "unknown", detail: "venue_gone" };
    else {
      try {
        const sent = await venue.send(prepared);
        switch (sent.kind) {
          case "placed":
            outcome = { kind: "order", state: sent };
            break;
          case "rejected":
            // The request signature (e.g. Polymarket's L2 headers) could not be had: nothing was sent.
            outcome =
              sent.reason === SIGNER_UNAVAILABLE
                ? { kind: "denied", reason: reason("venue_not_ready", record.ref.venue) }
                : { kind: "failed", reason: sent.reason };
            break;
          case "already_placed":
            // The venue has an order with this id: it was placed before. Find it; never send again.
            outcome = this.#fromLookup(
              record,
              await venue.lookup(record.ref),
              venue,
              "duplicate_client_order_id",
            );
            break;
          case "unknown":
            outcome = { kind: "unknown", detail: sent.detail };
            break;
        }
      } catch (err) {
        this.#observer.failed(err, "venue.send");
        outcome = { kind: "unknown", detail: "internal_error" };
      }
    }
    await this.#finish(record, outcome, startedAt);
  }

  /**
   * A redelivered entry that has a send record: the order may have been sent,
   * so it is looked up, never sent again. Found → its result; not found once
   * no request can still be in flight → `FAILED`; otherwise `UNKNOWN`, left
   * open for reconciliation. A cancel's record gets its `UNKNOWN` result
   * (its stage 2) and is reconciled with the others.
   */
  async resolve(record: OpenRecord, startedAt: number): Promise<void> {
    if (isCancelRecord(record)) return this.#cancels.finish(record, startedAt);
    const venue = this.#venues().get(record.ref.venue);
    let outcome: LiveOutcome;
    if (!venue) outcome = { kind: "unknown", detail: "venue_gone" };
    else {
      try {
        outcome = this.#fromLookup(record, await venue.lookup(record.ref), venue, "redelivered");
      } catch (err) {
        this.#observer.failed(err, "venue.lookup");
        outcome = { kind: "unknown", detail: "redelivered" };
      }
    }
    await this.#finish(record, outcome, startedAt);
  }

  /**
   * One pass over the open UNKNOWNs (of one venue, when given): each one the
   * venue can answer for gets its one `reconciled: true` follow-up. Returns
   * how many are still open.
   */
  async reconcileOpen(venueName?: VenueName): Promise<number> {
    const open = await this.#ledger.openUnknowns(venueName);
    let left = 0;
    for (const record of open) {
      if (isCancelRecord(record)) {
        try {
          if (!(await this.#cancels.reconcile(record))) left++;
        } catch (err) {
          this.#observer.failed(err, "reconcile cancel");
          left++;
        }
        continue;
      }
      const venue = this.#venues().get(record.ref.venue);
      if (!venue) {
        left++;
        continue;
      }
      const t0 = performance.now();
      let outcome: LiveOutcome;
      try {
        outcome = this.#fromLookup(record, await venue.lookup(record.ref), venue, "unresolved");
      } catch (err) {
        this.#observer.failed(err, "venue.lookup");
        left++;
        continue;
      }
      if (outcome.kind === "unknown") {
        left++;
        continue;
      }
      const result = completeResult(record, outcome, this.#clock(), true);
      let done: "committed" | "duplicate";
      try {
        done = await this.#writeLive((finish) => this.#ledger.reconcile(record, result, finish), {
          record,
          result,
          outcome,
        });
      } catch (err) {
        this.#observer.failed(err, "reconcile");
        left++;
        continue;
      }
      if (done === "committed") this.#observer.decided(result, (performance.now() - t0) / 1000);
      else this.#observer.duplicate(record.lane, record.streamId);
    }
    return left;
  }

  #fromLookup(
    record: SendRecord,
    look: LookupOutcome,
    venue: Venue,
    unknownDetail: VenueErrorDetail,
  ): LiveOutcome {
    switch (look.kind) {
      case "found":
        return { kind: "order", state: look };
      case "not_found":
        // Final only once no request for it can still reach the venue.
        return this.#clock() > record.startedAt + venue.inFlightMs
          ? { kind: "failed", reason: reason("venue_error", "order_not_found") }
          : { kind: "unknown", detail: unknownDetail };
      case "unavailable":
        return { kind: "unknown", detail: unknownDetail };
    }
  }

  async #finish(record: SendRecord, outcome: LiveOutcome, startedAt: number): Promise<void> {
    const result = completeResult(record, outcome, this.#clock(), false);
    // A throw leaves the entry pending with its send record: it is looked up again on redelivery.
    const done = await this.#writeLive((finish) => this.#ledger.finishSend(record, result, finish), {
      record,
      result,
      outcome,
    });
    if (done === "committed") this.#observer.decided(result, (performance.now() - startedAt) / 1000);
    else this.#observer.duplicate(record.lane, record.streamId);
  }

  /**
   * Writes a live result with what it leaves: the order resting, and what it
   * filled moving its live book. The position is read, moved and written only
   * while unchanged; another writer moving it in between (a fill of another
   * order of the same book) means read again. Throws after
   * {@link POSITION_RETRIES} such races, writing nothing.
   */
  async #writeLive(
    write: (finish: LiveFinish) => Promise<LiveFinishOutcome>,
    live: { readonly record: SendRecord; readonly result: PlanResult; readonly outcome: LiveOutcome },
  ): Promise<"committed" | "duplicate"> {
    const resting = restingOrder(live.record, live.outcome);
    for (let attempt = 1; ; attempt++) {
      const position = await this.#fillMove(live.record, live.result);
      const done = await write({
        ...(resting === undefined ? {} : { resting }),
        ...(position === undefined ? {} : { position }),
      });
      if (done !== "position") return done;
      if (attempt >= POSITION_RETRIES)
        throw new Error(
          `the ${live.record.ref.venue} position of ${live.record.ref.account} in ${live.record.ref.symbol} moved under ${attempt} writes in a row; the result is written when retried`,
        );
    }
  }

  /** The move a live result's fill makes to its live book, from the position as stored now. */
  async #fillMove(record: SendRecord, result: PlanResult): Promise<PositionMove | undefined> {
    if (result.decision !== "EXECUTED" || result.fill_qty === null || result.side === null) return undefined;
    // Nothing filled (an order resting untouched): no book to read. Anything else is checked by liveFillMove.
    if (parseDecimal(result.fill_qty) === 0n) return undefined;
    const book = liveBook(record.ref);
    const positions = await readBooks(this.#ledger, [book]);
    return liveFillMove({
      book,
      side: result.side,
      filledBefore: "0",
      filledNow: result.fill_qty,
      positionText: positions.get(positionKey(book)) ?? "0",
    });
  }
}

/** Writes of one live result that may race other fills of its book before giving up (the entry stays pending). */
const POSITION_RETRIES = 20;

/** The signing plane could not be reached or could not read the key: the venue cannot go live now. */
const SIGNER_UNAVAILABLE = reason("signer_denied", "signer_unavailable");

function withoutLive(d: Decision): Decision {
  const { live: _live, sendRecord: _record, ...rest } = d;
  return rest;
}

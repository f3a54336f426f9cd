import { type Decimal, parseDecimal } from "../core/decimal.js";
import { isRecord } from "../core/isRecord.js";
import { isCancelRecord } from "../core/openRecord.js";
import type { TradingState } from "../core/plan.js";
import {
  bookOf,
  DriftCheck,
  type DriftSettings,
  ExplainedPositions,
  InFlight,
  type PositionAlert,
  type PositionBook,
  type PositionReading,
  type PositionSlot,
  ReadFailures,
} from "../core/positionWatch/index.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { Backend } from "../ports/backend.js";
import type { PositionsOutcome } from "../ports/venue.js";
import { AlertStateError, parseStoredJson } from "./alertDeliveryError.js";
import { alertIdFor, unsentAlerts } from "./alertOutbox.js";

/** Where one reading comes from: one account at a live venue, or the whole paper ledger. */
export interface PositionSource {
  readonly book: PositionBook;
  /** The account read; absent for the paper ledger (every account). */
  readonly account?: string;
  read(): Promise<PositionsOutcome>;
}

/** A position alert as appended, with its `alert_id`. */
export type PublishedPositionAlert = PositionAlert & { readonly alert_id: string };

/** What a {@link PositionWatch} reports (metrics, logs). */
export interface PositionWatchObserver {
  /** A source was read (or failed to be). */
  read(source: PositionSource, outcome: PositionsOutcome, at: number): void;
  /** The position no decision explains, per slot read. */
  unexplained(slot: PositionSlot, qty: string): void;
  /** Drift moved the trading state. */
  stateChanged(state: TradingState, who: string, alert: PublishedPositionAlert): void;
  /** Drift asked for a state change that was not made (no deployment on the bus). */
  stateRefused(state: TradingState, why: string): void;
}

/** What a {@link PositionWatch} needs. */
export interface PositionWatchOptions {
  readonly backend: Pick<
    Backend,
    | "readResults"
    | "lastResultId"
    | "publishAlert"
    | "readOrderEvents"
    | "lastOrderEventId"
    | "workingOrders"
    | "openUnknowns"
    | "sendsInFlight"
    | "getTradingState"
    | "setTradingState"
    | "readDeployment"
  >;
  readonly feed: Pick<AlertFeed, "getState" | "setState" | "readAlerts" | "lastAlertId">;
  readonly sources: readonly PositionSource[];
  readonly drift: DriftSettings;
  /** How often a venue that stays unreadable is alerted again. */
  readonly unreadableRepeatMs: number;
  /** Who changes the trading state, for its log (`watch:<name>`). */
  readonly who: string;
  readonly observer: PositionWatchObserver;
  /** The stored value's name (`<prefix>alert_delivery:<name>` on Redis); default `positions`. */
  readonly stateName?: string;
  readonly clock?: () => number;
}

interface StoredState {
  readonly v: 1;
  readonly results: string;
  readonly events: string;
  readonly explained: unknown;
  readonly drift: unknown;
  readonly reads: unknown;
  readonly outbox: readonly PublishedPositionAlert[];
  readonly alertsMark: string;
}

const PAGE = 500;
const STATE_RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/**
 * The position watcher (issue 12, layer 3). Each {@link step} reads every
 * source's positions, folds the results and order events written since
 * the last step into the positions IntentGate explains, and alerts
 * `position_drift` for a difference that persists (core `DriftCheck`);
 * drift configured to `reduce` or `halt` moves the trading state, logged
 * with who (`watch:<name>`) and why. An unreadable source is alerted
 * (`venue_unreadable`), never skipped in silence.
 *
 * Its progress (both cursors, the explained positions, the drift state and
 * an outbox of alerts) is one stored value on the bus, written before any
 * alert is appended or state changed, so a restart or a new leader resumes
 * without repeating or losing an alert. Only one runs per state name (the
 * watcher's lease).
 */
export class PositionWatch {
  readonly #o: PositionWatchOptions & { readonly stateName: string; readonly clock: () => number };
  #state: StoredState | undefined;

  constructor(opts: PositionWatchOptions) {
    this.#o = { stateName: "positions", clock: Date.now, ...opts };
  }

  /** One pass; returns the alerts appended. Rejects with `AlertStateError` for a stored state it cannot read. */
  async step(): Promise<number> {
    const o = this.#o;
    let state = await this.#load();
    let appended = state.outbox.length > 0 ? await this.#finish(state.outbox, true) : 0;
    state = this.#state as StoredState;
    const explained = ExplainedPositions.restore(state.explained);
    const drift = new DriftCheck(o.drift, state.drift);
    const reads = new ReadFailures(o.unreadableRepeatMs, state.reads);

    // What may be moving: read before the venues, so a fill a reading shows is either
    // already in a result, or its order is in flight here.
    const inFlight = await this.#inFlight();
    const readings = await Promise.all(
      o.sources.map(async (source) => ({
        source,
        outcome: await source.read().catch(
          (err: unknown): PositionsOutcome => ({
            ok: false,
            detail: err instanceof Error ? err.message : String(err),
          }),
        ),
      })),
    );
    const cursors = await this.#fold(state, explained, inFlight);

    const now = o.clock();
    const raised: PositionAlert[] = [];
    for (const { source, outcome } of readings) {
      o.observer.read(source, outcome, now);
      const account = source.account ?? "*";
      if (!outcome.ok) {
        const alert = reads.failed(source.book, account, outcome.detail, now);
        if (alert) raised.push(alert);
        continue;
      }
      reads.succeeded(source.book, account, now);
      const reading: PositionReading = {
        book: source.book,
        ...(source.account === undefined ? {} : { account: source.account }),
        positions: outcome.positions,
      };
      const found = drift.check(reading, explained, inFlight, now);
      for (const u of found.unexplained) o.observer.unexplained(u.slot, u.qty);
      raised.push(...found.alerts);
    }
    const outbox = raised.map((a) => ({ ...a, alert_id: alertIdFor(a) }));
    await this.#save({
      v: 1,
      ...cursors,
      explained: explained.snapshot(),
      drift: drift.snapshot(),
      reads: reads.snapshot(),
      outbox,
      alertsMark: outbox.length > 0 ? await o.feed.lastAlertId() : state.alertsMark,
    });
    appended += outbox.length > 0 ? await this.#finish(outbox, false) : 0;
    return appended;
  }

  /** Applies the outbox's state changes, appends its alerts (after a crash: those not on the stream yet), empties it. */
  async #finish(outbox: readonly PublishedPositionAlert[], recovering: boolean): Promise<number> {
    const o = this.#o;
    for (const alert of outbox) if (alert.kind === "position_drift") await this.#act(alert);
    const toSend = recovering
      ? await unsentAlerts(o.feed, (this.#state as StoredState).alertsMark, outbox)
      : outbox;
    for (const alert of toSend) await o.backend.publishAlert({ ...alert });
    await this.#save({ ...(this.#state as StoredState), outbox: [] });
    return toSend.length;
  }

  /** Moves the trading state as the drift alert's action says, unless it is there already (so a replay changes nothing). */
  async #act(alert: PublishedPositionAlert & { readonly kind: "position_drift" }): Promise<void> {
    const o = this.#o;
    const target: TradingState | undefined =
      alert.action === "halt" ? "HALTED" : alert.action === "reduce" ? "REDUCING" : undefined;
    if (target === undefined) return;
    const current = await o.backend.getTradingState();
    if (STATE_RANK[current] >= STATE_RANK[target]) return;
    const why = `position_drift ${alert.venue}/${alert.account}/${alert.symbol}: expected ${alert.expected}, actual ${alert.actual}`;
    if ((await o.backend.readDeployment()) === undefined) {
      o.observer.stateRefused(target, `${why}; no deployment on the bus (run intentgate init)`);
      return;
    }
    const who = `${o.who} (${why})`.slice(0, 200);
    await o.backend.setTradingState(target, who);
    o.observer.stateChanged(target, who, alert);
  }

  /** What orders sent and unanswered, open UNKNOWNs and working orders could still fill, per slot. */
  async #inFlight(): Promise<InFlight> {
    const b = this.#o.backend;
    const [sending, unknowns, working] = await Promise.all([
      b.sendsInFlight(),
      b.openUnknowns(),
      b.workingOrders(),
    ]);
    const inFlight = new InFlight();
    for (const r of [...sending, ...unknowns]) {
      // A cancel's orders are working orders, counted below while they are stored.
      if (isCancelRecord(r)) continue;
      const slot = { book: bookOf(r.ref.venue, r.result.mode), account: r.ref.account, symbol: r.ref.symbol };
      const qty = r.result.qty === null ? undefined : parseDecimal(r.result.qty);
      if (r.result.side === null || qty === undefined) inFlight.any(slot);
      else inFlight.order(slot, r.result.side, qty);
    }
    for (const w of working) {
      const slot = { book: bookOf(w.venue, w.mode), account: w.account, symbol: w.symbol };
      const qty = parseDecimal(w.qty);
      const filled = parseDecimal(w.fill_qty);
      if (qty === undefined || filled === undefined) inFlight.any(slot);
      else inFlight.order(slot, w.side, (qty - filled) as Decimal);
    }
    return inFlight;
  }

  /** Folds every result and order event after the stored cursors; the slots they touched may have moved by any amount. */
  async #fold(
    state: StoredState,
    explained: ExplainedPositions,
    inFlight: InFlight,
  ): Promise<{ results: string; events: string }> {
    const b = this.#o.backend;
    let results = state.results;
    for (;;) {
      const page = await b.readResults(results, PAGE, 0);
      for (const { id, result } of page) {
        results = id;
        const slot = explained.observeResult(result);
        if (slot) inFlight.any(slot);
      }
      if (page.length < PAGE) break;
    }
    let events = state.events;
    for (;;) {
      const page = await b.readOrderEvents(events, PAGE);
      for (const { id, event } of page) {
        events = id;
        inFlight.any(explained.observeEvent(event));
      }
      if (page.length < PAGE) break;
    }
    return { results, events };
  }

  async #load(): Promise<StoredState> {
    if (this.#state) return this.#state;
    const o = this.#o;
    const text = await o.feed.getState(o.stateName);
    if (text !== undefined) {
      this.#state = decodeState(text, o.stateName);
      try {
        ExplainedPositions.restore(this.#state.explained);
        new DriftCheck(o.drift, this.#state.drift);
        new ReadFailures(o.unreadableRepeatMs, this.#state.reads);
      } catch (err) {
        throw new AlertStateError(
          `${o.stateName}: the stored position state is not readable (${String(err)})`,
        );
      }
      return this.#state;
    }
    // First start: from now on; orders working now are followed from their fill so far.
    const [results, events] = await Promise.all([o.backend.lastResultId(), o.backend.lastOrderEventId()]);
    const explained = new ExplainedPositions();
    explained.seed(await o.backend.workingOrders());
    const state: StoredState = {
      v: 1,
      results,
      events,
      explained: explained.snapshot(),
      drift: new DriftCheck(o.drift).snapshot(),
      reads: new ReadFailures(o.unreadableRepeatMs).snapshot(),
      outbox: [],
      alertsMark: "0",
    };
    await this.#save(state);
    return state;
  }

  async #save(state: StoredState): Promise<void> {
    await this.#o.feed.setState(this.#o.stateName, JSON.stringify(state));
    this.#state = state;
  }
}

function decodeState(text: string, name: string): StoredState {
  const v = parseStoredJson(text, `${name}: the stored position state is not JSON`);
  const ok =
    isRecord(v) &&
    v.v === 1 &&
    typeof v.results === "string" &&
    typeof v.events === "string" &&
    typeof v.alertsMark === "string" &&
    Array.isArray(v.outbox) &&
    v.outbox.every((a) => isRecord(a) && typeof a.alert_id === "string" && typeof a.kind === "string");
  if (!ok) throw new AlertStateError(`${name}: the stored position state is malformed`);
  return v as unknown as StoredState;
}

import { orderRefOf } from "../core/liveCancel.js";
import { followLiveOrder, liveCancelUpdate, stateCancelCause } from "../core/liveOrderUpdate.js";
import { isCancelRecord, type OpenRecord } from "../core/openRecord.js";
import type { OrderEvent } from "../core/orderEvent.js";
import type { OrderUpdate } from "../core/orderUpdate.js";
import type { TradingState, VenueName } from "../core/plan.js";
import type { Policy } from "../core/policy.js";
import type { WorkingOrder } from "../core/workingOrder.js";
import type { Ledger } from "../ports/ledger.js";
import type { Venue } from "../ports/venue.js";
import { withLiveFillsNow } from "./liveBooks.js";
import { cancelAtVenue } from "./liveCancels.js";
import { runEvery } from "./runEvery.js";

/** Receives what the live follower does, for logs, metrics and alerts. */
export interface LiveOrderFollowerObserver {
  /** An order event was written by this follower. */
  orderEvent(event: OrderEvent): void;
  /** A pass or a step of it failed (the ledger unreachable, an adapter threw); retried at the next pass. */
  failed(err: unknown, during: string): void;
  /** A cancel the trading state asked for failed; `attempt` counts from 1. */
  cancelFailed(order: WorkingOrder, error: string, attempt: number): void;
  /** A dead-man switch was armed (or refreshed), or could not be. */
  keepAlive(venue: VenueName, account: string, ok: boolean, detail: string): void;
}

/** What the live follower needs, passed in. */
export interface LiveOrderFollowerDeps {
  readonly ledger: Pick<
    Ledger,
    "workingOrders" | "getTradingState" | "updateOrders" | "holdLease" | "openUnknowns" | "readFacts"
  >;
  readonly venues: () => ReadonlyMap<VenueName, Venue>;
  /** The current policy snapshot (`on_halt`, `on_reducing`). */
  readonly policy: () => Pick<Policy, "onHalt" | "onReducing">;
  readonly observer: LiveOrderFollowerObserver;
  /** Appends an alert (wire-v1 §1a); a failure to send it is the caller's to report. */
  readonly alert: (fields: Record<string, unknown>) => Promise<void>;
  /** Who asks for the lease: this executor's consumer name. */
  readonly owner: string;
  /** Pause between passes (`reconcile_interval_ms`). */
  readonly intervalMs: number;
  /** Per live venue, how often its dead-man switch is refreshed while it has working orders. */
  readonly keepAliveEveryMs: ReadonlyMap<VenueName, number>;
  /** Lookups per venue per pass (orders beyond it are looked up at later passes, in turn). */
  readonly lookupsPerPass?: number;
  readonly clock?: () => number;
}

/** The lease one executor holds while it follows live orders and keeps the dead-man switches armed. */
export const LIVE_FOLLOWER_LEASE = "live-follower";

/** The longest pause between tries of a failed cancel. */
const MAX_BACKOFF_MS = 30_000;

/** Attempts after which a rate-limited cancel is alerted (a refused one is alerted at once). */
const RATE_LIMITED_ALERT_AT = 3;

interface CancelTries {
  attempts: number;
  nextAt: number;
  alerted: boolean;
}

/**
 * Follows orders working at live venues after their result (wire-v1 §4a,
 * §7), in the one executor that holds the {@link LIVE_FOLLOWER_LEASE}:
 *
 * - each pass looks orders up at their venue (at most `lookupsPerPass` per
 *   venue, in turn) and writes what the venue did since: fills (`FILL`),
 *   and cancels or expiries by the venue itself (`cause: "venue"`), e.g.
 *   its dead-man switch after every executor died;
 * - under `HALTED` (and `REDUCING` for orders that are not `reduce_only`)
 *   it cancels them at the venue, each with a `cause: "state:<STATE>"`
 *   event; a cancel that fails is retried with backoff and alerted
 *   (`order_cancel_failed`) once per order: at once, or at the third try
 *   when the venue or the signer only asked to slow down;
 * - {@link LiveOrderFollower.keepAlive} keeps each venue's dead-man switch
 *   armed for the accounts (and, on Binance, the symbols) with working
 *   orders (and keeps refreshing it while it leads), so the venue cancels
 *   them by itself if every executor dies.
 *
 * Orders of a cancel plan whose answer is still unknown (an open
 * `CancelRecord`) are left to its reconciliation, which cancels them and
 * writes their events with the plan's cause.
 *
 * Every update is the ledger's conditional write (`updateOrders`), so a
 * second follower (a lease that just changed hands) never doubles an event.
 * The trading state change itself never waits on any of this.
 */
export class LiveOrderFollower {
  readonly #deps: LiveOrderFollowerDeps;
  readonly #clock: () => number;
  readonly #tries = new Map<string, CancelTries>();
  readonly #cursor = new Map<VenueName, number>();
  readonly #lastKeepAlive = new Map<string, number>();
  /** Per venue account: the symbols whose switch this executor armed while it led. */
  readonly #armed = new Map<string, { venue: VenueName; account: string; symbols: Set<string> }>();

  constructor(deps: LiveOrderFollowerDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Whether this executor holds the lease now (taking or renewing it). */
  async #lead(): Promise<boolean> {
    const { ledger, owner, intervalMs } = this.#deps;
    return ledger.holdLease({ name: LIVE_FOLLOWER_LEASE, owner, ttlMs: Math.max(3 * intervalMs, 5_000) });
  }

  /** One pass, when this executor leads; returns the events it wrote. */
  async pass(): Promise<number> {
    const { ledger } = this.#deps;
    if (!(await this.#lead())) return 0;
    // An order under an open cancel record is the reconciler's: it asks the venue and writes its event.
    const held = ordersUnderOpenCancels(await ledger.openUnknowns());
    const orders = (await ledger.workingOrders()).filter((o) => o.mode === "live" && !held.has(o.key));
    this.#forget(orders);
    if (orders.length === 0) return 0;
    const state = await ledger.getTradingState();
    const byVenue = groupBy(orders, (o) => o.venue);
    const written = await Promise.all(
      [...byVenue].map(([venue, list]) => this.#followVenue(venue, list, state)),
    );
    return written.reduce((a, b) => a + b, 0);
  }

  async #followVenue(
    venueName: VenueName,
    orders: readonly WorkingOrder[],
    state: TradingState,
  ): Promise<number> {
    const { observer, policy } = this.#deps;
    const venue = this.#deps.venues().get(venueName);
    if (venue === undefined) return 0;
    const found: Array<{ order: WorkingOrder; update: OrderUpdate }> = [];
    const toLook: WorkingOrder[] = [];
    for (const order of orders) {
      const cause = stateCancelCause(order, state, policy());
      if (cause === undefined) toLook.push(order);
      else {
        const update = await this.#cancel(venue, order, cause);
        if (update === "look") toLook.push(order);
        else if (update) found.push({ order, update });
      }
    }
    for (const order of this.#inTurn(venueName, toLook)) {
      try {
        const look = await venue.lookup(orderRefOf(order));
        if (look.kind !== "found") continue;
        const { kind: _k, ...s } = look;
        const update = followLiveOrder(order, s, this.#clock());
        if (update) found.push({ order, update });
      } catch (err) {
        observer.failed(err, "venue.lookup");
      }
    }
    if (found.length === 0) return 0;
    // What filled since the last pass moves the live books, in the same conditional write as the event.
    const updates = await withLiveFillsNow(this.#deps.ledger, found);
    const outcomes = await this.#deps.ledger.updateOrders(updates);
    let written = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome !== "applied") return;
      written++;
      observer.orderEvent((updates[i] as OrderUpdate).event);
    });
    return written;
  }

  /** Cancels one order for the trading state; "look": it ended otherwise, so look it up instead. */
  async #cancel(
    venue: Venue,
    order: WorkingOrder,
    cause: "state:HALTED" | "state:REDUCING",
  ): Promise<OrderUpdate | "look" | undefined> {
    const now = this.#clock();
    const tries = this.#tries.get(order.key);
    if (tries && now < tries.nextAt) return undefined;
    const outcome = await cancelAtVenue(venue, order, this.#deps.observer);
    if (outcome.kind === "canceled") {
      this.#tries.delete(order.key);
      return liveCancelUpdate(order, outcome.state, cause, this.#clock());
    }
    if (outcome.kind === "not_open") {
      this.#tries.delete(order.key);
      return "look";
    }
    const error = outcome.kind === "rejected" ? outcome.reason : `venue_error:${outcome.detail}`;
    const rateLimited = outcome.kind === "rejected" && outcome.rateLimited === true;
    const t = tries ?? { attempts: 0, nextAt: 0, alerted: false };
    t.attempts++;
    t.nextAt = now + Math.min(this.#deps.intervalMs * 2 ** (t.attempts - 1), MAX_BACKOFF_MS);
    this.#tries.set(order.key, t);
    this.#deps.observer.cancelFailed(order, error, t.attempts);
    if (!t.alerted && (!rateLimited || t.attempts >= RATE_LIMITED_ALERT_AT)) {
      t.alerted = true;
      await this.#deps
        .alert({
          kind: "order_cancel_failed",
          severity: "critical",
          dedup_key: `order_cancel_failed:${order.venue}:${order.client_order_id}`,
          venue: order.venue,
          account: order.account,
          client_order_id: order.client_order_id,
          error,
        })
        .catch((err: unknown) => this.#deps.observer.failed(err, "alert"));
    }
    return undefined;
  }

  /** Up to `lookupsPerPass` of a venue's orders, continuing where the last pass stopped. */
  #inTurn(venue: VenueName, orders: readonly WorkingOrder[]): WorkingOrder[] {
    const cap = this.#deps.lookupsPerPass ?? 20;
    if (orders.length <= cap) return [...orders];
    const start = (this.#cursor.get(venue) ?? 0) % orders.length;
    this.#cursor.set(venue, start + cap);
    return Array.from({ length: cap }, (_, i) => orders[(start + i) % orders.length] as WorkingOrder);
  }

  /** Drops the retry state of orders that no longer work. */
  #forget(orders: readonly WorkingOrder[]): void {
    const live = new Set(orders.map((o) => o.key));
    for (const key of this.#tries.keys()) if (!live.has(key)) this.#tries.delete(key);
  }

  /**
   * Arms or refreshes the dead-man switch of every venue account with live
   * working orders, each at most once per its venue's `keepAliveEveryMs`,
   * when this executor leads. A switch once armed stays refreshed while
   * this executor leads, also after its orders ended: a switch left to run
   * out would otherwise fire on the next order placed in its scope (a
   * Polymarket heartbeat session that stopped cancels every open order of
   * the key; a Binance countdown every open order of the symbol). Returns
   * how many were armed.
   */
  async keepAlive(): Promise<number> {
    const { ledger, observer } = this.#deps;
    if (!(await this.#lead())) {
      // Another executor leads: it arms what it sees; ours are no longer ours to refresh.
      this.#armed.clear();
      return 0;
    }
    const orders = (await ledger.workingOrders()).filter((o) => o.mode === "live");
    for (const o of orders) {
      const id = `${o.venue}\u0000${o.account}`;
      const scope = this.#armed.get(id) ?? { venue: o.venue, account: o.account, symbols: new Set<string>() };
      scope.symbols.add(o.symbol);
      this.#armed.set(id, scope);
    }
    const now = this.#clock();
    let armed = 0;
    await Promise.all(
      [...this.#armed].map(async ([id, scope]) => {
        const every = this.#deps.keepAliveEveryMs.get(scope.venue);
        const venue = this.#deps.venues().get(scope.venue);
        if (every === undefined || venue === undefined) return;
        if (now - (this.#lastKeepAlive.get(id) ?? 0) < every) return;
        const symbols = [...scope.symbols].sort();
        try {
          const out = await venue.keepAlive({ account: scope.account, symbols });
          if (out.ok) {
            this.#lastKeepAlive.set(id, now);
            armed++;
          }
          observer.keepAlive(scope.venue, scope.account, out.ok, out.ok ? symbols.join(",") : out.detail);
        } catch (err) {
          observer.failed(err, "venue.keepAlive");
        }
      }),
    );
    return armed;
  }

  /** Runs passes every `intervalMs`, and keep-alives at their own pace, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const every = Math.min(...this.#deps.keepAliveEveryMs.values(), this.#deps.intervalMs);
    const { observer, intervalMs } = this.#deps;
    await Promise.all([
      runEvery({
        signal,
        everyMs: intervalMs,
        step: () => this.pass(),
        failed: (err) => observer.failed(err, "following live orders"),
      }),
      runEvery({
        signal,
        everyMs: Math.max(250, Math.floor(every / 2)),
        step: () => this.keepAlive(),
        failed: (err) => observer.failed(err, "keeping dead-man switches armed"),
      }),
    ]);
  }
}

/** Keys of the working orders that open cancel records hold. */
function ordersUnderOpenCancels(records: readonly OpenRecord[]): Set<string> {
  const keys = new Set<string>();
  for (const r of records) if (isCancelRecord(r)) for (const o of r.orders) keys.add(o.key);
  return keys;
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

import type { AlertRuleSettings } from "../core/alertRules/settings.js";
import type { AlertFeed } from "../ports/alertFeed.js";
import type { AlertSink } from "../ports/alertSink.js";
import type { Backend } from "../ports/backend.js";
import { AlertDelivery } from "./alertDelivery.js";
import type { AlertLogger } from "./alertDeliveryOptions.js";
import type { AlertMetrics } from "./alertMetrics.js";
import { pause } from "./errorText.js";
import { PositionWatch, type PositionWatchOptions } from "./positionWatch.js";
import { RuleWatch } from "./ruleWatch.js";

/** The lease the leading watcher holds on the bus (`<prefix>lease:watch`). */
export const WATCH_LEASE = "watch";

/** What a {@link Watcher} reports besides alert metrics. */
export interface WatcherObserver {
  /** This watcher started or stopped leading. */
  leading(leading: boolean): void;
  /** A pass of the rules read `read` results and appended `alerts` alerts. */
  pass(read: number, alerts: number): void;
  /** A pass failed; it is tried again after the interval. */
  failed(err: unknown, during: string): void;
  /** A pass ended (leading or not). */
  stepped(): void;
}

/** What a {@link Watcher} needs, passed in. */
export interface WatcherDeps {
  readonly backend: Pick<Backend, "readResults" | "publishAlert" | "lastResultId" | "holdLease"> &
    PositionWatchOptions["backend"];
  readonly feed: AlertFeed;
  readonly sinks: readonly AlertSink[];
  readonly rules: AlertRuleSettings;
  /** The position watcher's settings; absent when positions are not watched. */
  readonly positions?: Omit<PositionWatchOptions, "backend" | "feed"> | undefined;
  /** This watcher's name (the lease owner); unique per live watcher. */
  readonly name: string;
  readonly intervalMs: number;
  readonly leaseMs: number;
  readonly logger: AlertLogger;
  readonly metrics: AlertMetrics;
  readonly observer: WatcherObserver;
}

/**
 * The watcher's loop (issue 12, layer 3): several may run, one leads by a
 * lease on the bus. Each interval the leader runs the alert rules over the
 * result stream (`RuleWatch`), compares venue positions with what results
 * and order events explain (`PositionWatch`, when configured) and delivers
 * the alert stream to people (`AlertDelivery`: log line, metric, sinks). Both keep their progress on
 * the bus, so a watcher that takes over (or restarts) continues where the
 * last leader stopped; the in-memory state of a watcher that lost the lease
 * is dropped and read again from the bus if it leads again.
 */
export class Watcher {
  readonly #d: WatcherDeps;
  #leading = false;
  #rules: RuleWatch | undefined;
  #positions: PositionWatch | undefined;
  #delivery: AlertDelivery | undefined;

  constructor(deps: WatcherDeps) {
    this.#d = deps;
  }

  /** Whether this watcher led at its last pass. */
  get leading(): boolean {
    return this.#leading;
  }

  /** One pass: renew (or take) the lease; while leading, run the rules and deliver. */
  async step(): Promise<void> {
    const d = this.#d;
    const leads = await d.backend.holdLease({ name: WATCH_LEASE, owner: d.name, ttlMs: d.leaseMs });
    if (leads !== this.#leading) {
      this.#leading = leads;
      d.observer.leading(leads);
      if (!leads) await this.#drop();
    }
    if (!leads) return;
    this.#rules ??= new RuleWatch({ bus: d.backend, feed: d.feed, settings: d.rules });
    this.#delivery ??= new AlertDelivery({
      feed: d.feed,
      sinks: d.sinks,
      logger: d.logger,
      metrics: d.metrics,
      stateName: "delivery",
    });
    try {
      const { read, alerts } = await this.#rules.step(0);
      d.observer.pass(read, alerts);
    } catch (err) {
      // The stored state may be ahead of ours (another leader ran): read it again next time.
      this.#rules = undefined;
      d.observer.failed(err, "alert rules");
    }
    if (d.positions !== undefined) {
      this.#positions ??= new PositionWatch({ ...d.positions, backend: d.backend, feed: d.feed });
      try {
        await this.#positions.step();
      } catch (err) {
        this.#positions = undefined;
        d.observer.failed(err, "positions");
      }
    }
    try {
      await this.#delivery.step(0);
    } catch (err) {
      await this.#drop();
      d.observer.failed(err, "alert delivery");
    }
  }

  /** Passes every `intervalMs` until `signal` aborts; then lets deliveries under way finish. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.step();
        this.#d.observer.stepped();
      } catch (err) {
        this.#d.observer.failed(err, "lease");
      }
      await pause(Math.max(0, this.#d.intervalMs - (Date.now() - started)), signal);
    }
    await this.#drop();
  }

  async #drop(): Promise<void> {
    const delivery = this.#delivery;
    this.#delivery = undefined;
    this.#rules = undefined;
    this.#positions = undefined;
    await delivery?.settled();
  }
}

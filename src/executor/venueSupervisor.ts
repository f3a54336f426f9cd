import { setTimeout as sleep } from "node:timers/promises";
import type { VenueName } from "../core/plan.js";
import type { Venue } from "../ports/venue.js";

/** What the supervisor reports. */
export interface VenueSupervisorObserver {
  readinessChanged(venue: VenueName, ready: boolean, detail: string): void;
  /** After each check of a venue: whether orders may go live per account (`*`: the venue as a whole). */
  accounts?(venue: VenueName, ready: ReadonlyMap<string, boolean>): void;
  failed(err: unknown, during: string): void;
}

/**
 * Keeps the set of live venues plans may be sent to (the live guard's third
 * key, wire-v1 gate 10): a venue is in it once its readiness check passed
 * (credentials work, clock skew within bounds, rules loaded) AND the open
 * UNKNOWNs it had at start are reconciled, so no new plan for a venue runs
 * before its earlier unknown outcomes are known. Readiness is checked again
 * every `intervalMs`, as is reconciliation of open UNKNOWNs.
 */
export class VenueSupervisor {
  readonly #venues: () => ReadonlyMap<VenueName, Venue>;
  readonly #reconcile: (venue: VenueName) => Promise<number>;
  readonly #observer: VenueSupervisorObserver;
  readonly #intervalMs: number;
  /** Venue → accounts that may trade live (`"*"`: all). A new map per change, so readers never see it half-updated. */
  #ready: ReadonlyMap<VenueName, ReadonlySet<string>> = new Map();
  readonly #reconciledAtStart = new Set<VenueName>();
  readonly #lastDetail = new Map<VenueName, string>();
  /** The latest readiness detail per venue, for `/readyz`. */
  readonly #details = new Map<VenueName, string>();

  constructor(deps: {
    venues: () => ReadonlyMap<VenueName, Venue>;
    reconcile: (venue: VenueName) => Promise<number>;
    observer: VenueSupervisorObserver;
    intervalMs: number;
  }) {
    this.#venues = deps.venues;
    this.#reconcile = deps.reconcile;
    this.#observer = deps.observer;
    this.#intervalMs = deps.intervalMs;
  }

  /** Venues plans may be sent to live right now (read at each decision). */
  get ready(): ReadonlyMap<VenueName, ReadonlySet<string>> {
    return this.#ready;
  }

  /** Why a venue is (not) ready, from its latest check; undefined before the first. */
  detail(venue: VenueName): string | undefined {
    return this.#details.get(venue);
  }

  /** One round, per venue: reconcile its open UNKNOWNs, then check readiness. */
  async check(): Promise<void> {
    for (const [name, venue] of this.#venues()) {
      // Every round reconciles the venue's open UNKNOWNs; the first round that leaves none
      // open (those from before the start included) lets the venue become ready.
      try {
        const left = await this.#reconcile(name);
        if (left === 0) this.#reconciledAtStart.add(name);
      } catch (err) {
        this.#observer.failed(err, `reconcile ${name}`);
      }
      let ready = false;
      let detail: string;
      let accounts: ReadonlySet<string> = new Set(["*"]);
      let known: readonly string[] = [];
      try {
        const r = await venue.readiness();
        ready = r.ready;
        detail = r.detail;
        if (r.accounts !== undefined) {
          known = Object.keys(r.accounts);
          accounts = new Set(Object.entries(r.accounts).flatMap(([a, s]) => (s.ready ? [a] : [])));
          const bad = Object.entries(r.accounts).filter(([, s]) => !s.ready);
          if (bad.length > 0)
            detail += `; not ready: ${bad.map(([a, s]) => `${a} (${s.detail})`).join(", ")}`;
        }
      } catch (err) {
        this.#observer.failed(err, `readiness ${name}`);
        detail = "readiness check failed";
      }
      if (ready && !this.#reconciledAtStart.has(name)) {
        ready = false;
        detail = "open UNKNOWN orders from before the start are not reconciled yet";
      }
      const perAccount = new Map<string, boolean>([["*", ready]]);
      for (const a of known) perAccount.set(a, ready && (accounts.has("*") || accounts.has(a)));
      this.#observer.accounts?.(name, perAccount);
      this.#details.set(name, detail);
      const was = this.#ready.has(name);
      const next = new Map(this.#ready);
      if (ready) next.set(name, accounts);
      else next.delete(name);
      this.#ready = next;
      if (was !== ready || this.#lastDetail.get(name) !== detail) {
        this.#lastDetail.set(name, detail);
        this.#observer.readinessChanged(name, ready, detail);
      }
    }
    // Venues dropped by a reload are no longer ready.
    const kept = new Map([...this.#ready].filter(([name]) => this.#venues().has(name)));
    if (kept.size !== this.#ready.size) this.#ready = kept;
  }

  /** Checks now, then every interval, reconciling open UNKNOWNs each time, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.#intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      await this.check();
    }
  }
}

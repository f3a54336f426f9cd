import type { BusEviction } from "../ports/busEviction.js";

/** The one Redis eviction policy under which the ledger's keys are kept: a full Redis refuses writes instead. */
export const KEEPING_POLICY = "noeviction";

/** Where the bus stands on evicting keys. */
export type BusEvictionStatus =
  /** Not read yet, or the bus never evicts (the embedded bus). */
  | { readonly state: "unknown" }
  /** The bus keeps every key (`noeviction`). */
  | { readonly state: "ok"; readonly policy: string }
  /** The bus may evict keys under `policy`: nothing is decided. */
  | { readonly state: "evicting"; readonly policy: string };

/** What the guard reports, once per change. */
export interface BusEvictionObserver {
  /** The bus may evict keys under `policy`: the executor stops deciding. */
  evicting(policy: string): void;
  /** The bus keeps its keys again after evicting: deciding resumes. */
  kept(policy: string): void;
}

/**
 * Keeps the executor deciding only while the bus never evicts keys. A Redis
 * with `maxmemory-policy allkeys-*` may drop claims, positions, the daily
 * notional or an account's books; with `volatile-*` it drops exactly the
 * keys with a time to live, the duplicate-order marks and rate counters
 * among them: each lets a plan through that the ledger should refuse, and
 * nothing would say so. The policy can change at run time (`CONFIG SET`),
 * so it is read again every `intervalMs`. An evicting bus is reported once
 * (the executor logs it, alerts `bus_eviction`, fails `/readyz`); its order
 * follower keeps running, so HALT still cancels.
 */
export class BusEvictionGuard {
  readonly #bus: BusEviction;
  readonly #observer: BusEvictionObserver;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  #status: BusEvictionStatus = { state: "unknown" };
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: {
    bus: BusEviction;
    observer: BusEvictionObserver;
    clock: () => number;
    /** How often the policy is read while the bus keeps its keys (always, while it does not). */
    intervalMs: number;
  }) {
    this.#bus = deps.bus;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
    this.#intervalMs = deps.intervalMs;
  }

  get status(): BusEvictionStatus {
    return this.#status;
  }

  /**
   * Whether the executor may decide now, as far as evictions go. Reads the
   * policy when due; a read that fails throws (the caller backs off).
   */
  async ready(): Promise<boolean> {
    const now = this.#clock();
    if (this.#status.state !== "evicting" && now - this.#checkedAt < this.#intervalMs) return true;
    const policy = await this.#bus.evictionPolicy();
    this.#checkedAt = this.#clock();
    if (policy === undefined) {
      this.#status = { state: "unknown" };
      return true;
    }
    const wasEvicting = this.#status.state === "evicting";
    if (policy !== KEEPING_POLICY) {
      this.#status = { state: "evicting", policy };
      if (!wasEvicting) this.#observer.evicting(policy);
      return false;
    }
    this.#status = { state: "ok", policy };
    if (wasEvicting) this.#observer.kept(policy);
    return true;
  }
}

import type { BusClock } from "../ports/busClock.js";

/** Where the executor's clock stands against the bus's. */
export type BusClockStatus =
  /** Not compared yet, or the bus keeps no clock of its own (the embedded bus). */
  | { readonly state: "unknown" }
  /** Within the tolerance; `offsetMs` is the least the clocks can differ by (0: they may agree exactly). */
  | { readonly state: "ok"; readonly offsetMs: number }
  /** Off by at least `offsetMs` (positive: the executor runs ahead), beyond `toleranceMs`: nothing is decided. */
  | { readonly state: "skewed"; readonly offsetMs: number; readonly toleranceMs: number };

/** What the guard reports, once per change. */
export interface BusClockObserver {
  /** The executor's clock is off from the bus's by at least `offsetMs`: it stops deciding. */
  skewed(offsetMs: number, toleranceMs: number): void;
  /** Back within the tolerance after being skewed: it decides again. */
  agreed(offsetMs: number): void;
}

/**
 * Keeps the executor deciding only while its clock agrees with the bus's
 * within `toleranceMs` (config `max_bus_clock_skew_ms`). Every gate that
 * reads the time (freshness, permit expiry, the rate window, the UTC day of
 * the daily cap) assumes the executors of a deployment share one time; an
 * executor whose clock is behind would take stale plans and expired permits
 * for fresh ones. A skewed executor decides nothing and reads nothing new, so
 * executors whose clocks agree take the plans; what it already read stays
 * pending and is reclaimed. Its order follower (HALT's cancels) keeps running.
 *
 * The bus's time is read between two readings of the executor's clock, so
 * the offset is known only to within that round trip: the guard uses the
 * least offset the readings allow, so a slow round trip never stops an
 * executor whose clock is right.
 */
export class BusClockGuard {
  readonly #bus: BusClock;
  readonly #observer: BusClockObserver;
  readonly #clock: () => number;
  readonly #toleranceMs: number;
  readonly #intervalMs: number;
  #status: BusClockStatus = { state: "unknown" };
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(deps: {
    bus: BusClock;
    observer: BusClockObserver;
    clock: () => number;
    /** The most the two clocks may differ by. */
    toleranceMs: number;
    /** How often the bus's time is read while the clocks agree (always, while they do not). */
    intervalMs: number;
  }) {
    this.#bus = deps.bus;
    this.#observer = deps.observer;
    this.#clock = deps.clock;
    this.#toleranceMs = deps.toleranceMs;
    this.#intervalMs = deps.intervalMs;
  }

  get status(): BusClockStatus {
    return this.#status;
  }

  /**
   * Whether the executor may decide now, as far as the clocks go. Reads the
   * bus's time when due; a read that fails throws (the caller backs off).
   */
  async ready(): Promise<boolean> {
    const before = this.#clock();
    if (this.#status.state !== "skewed" && before - this.#checkedAt < this.#intervalMs) return true;
    const busAt = await this.#bus.busTime();
    const after = this.#clock();
    this.#checkedAt = after;
    if (busAt === undefined) {
      this.#status = { state: "unknown" };
      return true;
    }
    const offsetMs = leastOffset(before, after, busAt);
    const wasSkewed = this.#status.state === "skewed";
    if (Math.abs(offsetMs) > this.#toleranceMs) {
      this.#status = { state: "skewed", offsetMs, toleranceMs: this.#toleranceMs };
      if (!wasSkewed) this.#observer.skewed(offsetMs, this.#toleranceMs);
      return false;
    }
    this.#status = { state: "ok", offsetMs };
    if (wasSkewed) this.#observer.agreed(offsetMs);
    return true;
  }
}

/** The offset in words, for logs and `/readyz`: "this host's clock is at least 2500 ms ahead of the bus's". */
export function describeOffset(offsetMs: number): string {
  return `this host's clock is at least ${Math.abs(offsetMs)} ms ${offsetMs > 0 ? "ahead of" : "behind"} the bus's`;
}

/**
 * The least the executor's clock can be off from the bus's, given the bus's
 * time read at some instant between the executor's `before` and `after`:
 * positive when it runs ahead, negative when behind, 0 when the readings
 * allow the clocks to agree.
 */
export function leastOffset(before: number, after: number, busAt: number): number {
  if (busAt < before) return before - busAt;
  if (busAt > after) return after - busAt;
  return 0;
}

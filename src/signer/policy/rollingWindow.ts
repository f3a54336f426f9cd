import type { Decimal } from "../../core/decimal.js";

/** Buckets per window: a window is counted in slices of 1/60 of its length. */
const SLICES = 60;

/**
 * One account's orders and notional over one rolling window (e.g. the last
 * hour), kept as {@link SLICES} + 1 time slices of 1/60 of the window each,
 * so memory does not grow with the order rate. A sum covers the slices that
 * overlap the window, the oldest one whole: it may count orders up to one
 * slice older than the window (at most 1 min late for 1 h), never fewer
 * than the window holds. Failing closed: a limit can deny slightly early,
 * never late.
 */
export class RollingWindow {
  readonly #sliceMs: number;
  readonly #slices = SLICES + 1;
  /** Per ring position: which slice index it holds, and its sums. */
  readonly #index: Float64Array;
  readonly #orders: Float64Array;
  readonly #notional: bigint[];

  constructor(windowMs: number) {
    this.#sliceMs = Math.max(1, Math.ceil(windowMs / SLICES));
    this.#index = new Float64Array(this.#slices).fill(-1);
    this.#orders = new Float64Array(this.#slices);
    this.#notional = new Array<bigint>(this.#slices).fill(0n);
  }

  /** Orders and notional counted in the window ending at `nowMs`. */
  sum(nowMs: number): { readonly orders: number; readonly notional: bigint } {
    const newest = Math.floor(nowMs / this.#sliceMs);
    const oldest = newest - SLICES;
    let orders = 0;
    let notional = 0n;
    for (let i = 0; i < this.#slices; i++) {
      const idx = this.#index[i]!;
      if (idx >= oldest && idx <= newest) {
        orders += this.#orders[i]!;
        notional += this.#notional[i]!;
      }
    }
    return { orders, notional };
  }

  /** Counts one order of `notional` at `atMs`. */
  add(atMs: number, notional: Decimal | undefined): void {
    const idx = Math.floor(atMs / this.#sliceMs);
    const pos = ((idx % this.#slices) + this.#slices) % this.#slices;
    if (this.#index[pos] !== idx) {
      this.#index[pos] = idx;
      this.#orders[pos] = 0;
      this.#notional[pos] = 0n;
    }
    this.#orders[pos]! += 1;
    if (notional !== undefined) this.#notional[pos] = this.#notional[pos]! + notional;
  }
}

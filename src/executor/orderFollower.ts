import { positionKey } from "../core/facts.js";
import type { OrderEvent } from "../core/orderEvent.js";
import { followPaperOrders } from "../core/orderUpdate.js";
import type { Policy } from "../core/policy.js";
import type { Ledger } from "../ports/ledger.js";
import { runEvery } from "./runEvery.js";

/** Receives what the follower does, for logs and metrics. */
export interface OrderFollowerObserver {
  /** An order event was written (by this follower: another one's is not reported). */
  orderEvent(event: OrderEvent): void;
  /** A pass failed (the ledger unreachable, …); the next pass tries again. */
  failed(err: unknown, during: string): void;
}

/** What the follower needs, passed in. */
export interface OrderFollowerDeps {
  readonly ledger: Pick<Ledger, "workingOrders" | "getTradingState" | "positions" | "updateOrders">;
  /** The current policy snapshot (swapped on config reload: a new price may fill resting orders). */
  readonly policy: () => Policy;
  readonly observer: OrderFollowerObserver;
  /** Pause between passes. */
  readonly intervalMs: number;
  readonly clock?: () => number;
}

/**
 * Follows working orders after their result (wire-v1 §4a, §7): each pass
 * reads them with the trading state and positions, works out what happens
 * to each (`followPaperOrders`: cancels on `HALTED`/`REDUCING`, fills when
 * the price crosses) and writes every change with its event in one atomic
 * step per order. Several executors may follow the same orders: an update
 * whose order changed since it was read conflicts and writes nothing, so
 * each event is written once. A trading-state change never waits on this:
 * the follower acts on it at its next pass.
 */
export class OrderFollower {
  readonly #deps: OrderFollowerDeps;

  constructor(deps: OrderFollowerDeps) {
    this.#deps = deps;
  }

  /** One pass; returns the events this follower wrote. */
  async pass(): Promise<number> {
    const { ledger, policy, observer } = this.#deps;
    const orders = await ledger.workingOrders();
    if (orders.length === 0) return 0;
    const [tradingState, held] = await Promise.all([ledger.getTradingState(), ledger.positions()]);
    const positions = new Map(held.map((p) => [positionKey(p), p.qty]));
    const now = (this.#deps.clock ?? Date.now)();
    const updates = followPaperOrders({
      orders,
      tradingState,
      policy: policy(),
      positions,
      now,
      onMalformed: (key, why) =>
        observer.failed(new Error(`working order ${key}: ${why}`), "following working orders"),
    });
    if (updates.length === 0) return 0;
    const outcomes = await ledger.updateOrders(updates);
    let written = 0;
    outcomes.forEach((outcome, i) => {
      if (outcome !== "applied") return;
      written++;
      observer.orderEvent((updates[i] as (typeof updates)[number]).event);
    });
    return written;
  }

  /** Runs passes every `intervalMs` until `signal` aborts; a failed pass is reported and retried. */
  async run(signal: AbortSignal): Promise<void> {
    await runEvery({
      signal,
      everyMs: this.#deps.intervalMs,
      step: () => this.pass(),
      failed: (err) => this.#deps.observer.failed(err, "following working orders"),
    });
  }
}

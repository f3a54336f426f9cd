import type { Decimal } from "../decimal.js";
import type { Side } from "../plan.js";
import { type PositionSlot, slotKey } from "./slot.js";

type Motion = { up: bigint; down: bigint } | "any";

/**
 * How far positions may be moving right now without IntentGate having
 * written it yet: per slot, the quantity its orders in flight (sent and
 * unanswered, `UNKNOWN`, or working) could still fill, up (BUY) and down
 * (SELL); or any amount, for a slot a result or order event touched while
 * the venue was being read. A difference within that range may be a fill
 * on its way, so the drift check waits `settleMs` before alerting it; a
 * difference outside it (a BUY resting while the position was closed by
 * hand) cannot be, and is alerted at once.
 */
export class InFlight {
  readonly #slots = new Map<string, Motion>();

  /** An order on `slot` that may still fill `remaining` on `side`. */
  order(slot: PositionSlot, side: Side, remaining: Decimal): void {
    const key = slotKey(slot);
    const m = this.#slots.get(key) ?? { up: 0n, down: 0n };
    if (m === "any" || remaining <= 0n) return void this.#slots.set(key, m);
    this.#slots.set(
      key,
      side === "BUY" ? { ...m, up: m.up + remaining } : { ...m, down: m.down + remaining },
    );
  }

  /** A slot that may have moved by any amount. */
  any(slot: PositionSlot): void {
    this.#slots.set(slotKey(slot), "any");
  }

  /** Whether `drift` on the slot keyed `key` may be a fill IntentGate has not written yet. */
  explains(key: string, drift: bigint): boolean {
    const m = this.#slots.get(key);
    if (m === undefined) return false;
    if (m === "any") return true;
    return drift > 0n ? drift <= m.up : -drift <= m.down;
  }
}

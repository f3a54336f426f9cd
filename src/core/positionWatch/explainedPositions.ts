import { type Decimal, formatDecimal, storedDecimal, ZERO } from "../decimal.js";
import type { OrderEvent } from "../orderEvent.js";
import { DEFAULT_ACCOUNT, type Side, type VenueName } from "../plan.js";
import type { PlanResult } from "../result.js";
import type { WorkingOrder } from "../workingOrder.js";
import { bookOf, type PositionSlot, slotKey } from "./slot.js";

/** An order whose later fills can still move a position (resting, or its outcome unknown). */
interface TrackedOrder {
  readonly slot: PositionSlot;
  readonly side: Side;
  /** The order's quantity. */
  readonly qty: string;
  /** Cumulative fill already counted. */
  readonly counted: string;
  /** Its result was `UNKNOWN` and no reconciled follow-up was seen yet. */
  readonly unknown: boolean;
}

/** What {@link ExplainedPositions.snapshot} returns: plain JSON. */
export interface ExplainedSnapshot {
  readonly v: 1;
  /** Signed quantity per slot key. */
  readonly qty: Readonly<Record<string, string>>;
  /** Followed orders by `<venue>|<client_order_id>`, oldest first. */
  readonly orders: Readonly<Record<string, TrackedOrder>>;
}

/** How many orders are followed at most; the oldest are dropped first (an IOC order that ended partly filled gets no event). */
const MAX_TRACKED = 20_000;

/**
 * The positions IntentGate's own decisions explain, folded from the result
 * stream and the order event stream (wire-v1 §4, §4a): every executed
 * place result adds its fill (BUY +, SELL −) to its slot, an `UNKNOWN`
 * result adds its reconciled follow-up's fill, and each order event adds
 * the fill beyond what was counted for its order (`fill_qty` is
 * cumulative). Pure: no I/O, restorable from {@link snapshot}.
 */
export class ExplainedPositions {
  readonly #qty = new Map<string, Decimal>();
  readonly #orders = new Map<string, TrackedOrder>();

  /** Restores a snapshot; throws on one it did not write. */
  static restore(snapshot: unknown): ExplainedPositions {
    const s = snapshot as Partial<ExplainedSnapshot> | null;
    if (s?.v !== 1 || typeof s.qty !== "object" || typeof s.orders !== "object" || !s.qty || !s.orders)
      throw new Error("explained positions: not a snapshot");
    const out = new ExplainedPositions();
    for (const [k, v] of Object.entries(s.qty)) out.#qty.set(k, storedDecimal(v, "explained positions: qty"));
    for (const [k, o] of Object.entries(s.orders)) {
      storedDecimal(o.counted, "explained positions: counted");
      out.#orders.set(k, o);
    }
    return out;
  }

  /**
   * Follows orders that were working when the watcher first started (their
   * fills so far are already in the venue's first reading, not to be added).
   */
  seed(orders: readonly WorkingOrder[]): void {
    for (const o of orders)
      this.#track(orderKey(o.venue, o.client_order_id), {
        slot: { book: bookOf(o.venue, o.mode), account: o.account, symbol: o.symbol },
        side: o.side,
        qty: o.qty,
        counted: o.fill_qty,
        unknown: false,
      });
  }

  /** Folds one result; returns the slot it may have moved, if any. */
  observeResult(r: PlanResult): PositionSlot | undefined {
    if (r.action !== "place" || r.venue === null || r.symbol === null || r.side === null) return undefined;
    if (r.client_order_id === null || r.qty === null) return undefined;
    const key = orderKey(r.venue, r.client_order_id);
    const tracked = this.#orders.get(key);
    const slot: PositionSlot = tracked?.slot ?? {
      book: bookOf(r.venue, r.mode),
      account: r.account ?? DEFAULT_ACCOUNT,
      symbol: r.symbol,
    };
    if (r.decision === "UNKNOWN") {
      this.#track(key, { slot, side: r.side, qty: r.qty, counted: tracked?.counted ?? "0", unknown: true });
      return slot;
    }
    if (r.decision !== "EXECUTED") {
      // A reconciled follow-up that placed nothing ends the unknown order.
      if (tracked) this.#orders.delete(key);
      return tracked ? slot : undefined;
    }
    const fill = storedDecimal(r.fill_qty ?? "0", "explained positions: fill_qty");
    this.#add(slot, r.side, fill - storedDecimal(tracked?.counted ?? "0", "explained positions: counted"));
    if (fill < storedDecimal(r.qty, "explained positions: qty"))
      this.#track(key, {
        slot,
        side: r.side,
        qty: r.qty,
        counted: formatDecimal(fill as Decimal),
        unknown: false,
      });
    else this.#orders.delete(key);
    return slot;
  }

  /** Folds one order event; returns the slot it moved. */
  observeEvent(e: OrderEvent): PositionSlot {
    const key = orderKey(e.venue, e.client_order_id);
    const tracked = this.#orders.get(key);
    // An order never followed (its result predates the watcher's first start and it was not
    // working then): its side is unknown, so nothing is added; a drift shows it.
    const slot = tracked?.slot ?? {
      book: bookOf(e.venue, e.venue === "paper" ? "paper" : "live"),
      account: e.account,
      symbol: e.symbol,
    };
    const fill = storedDecimal(e.fill_qty, "explained positions: fill_qty");
    const counted = storedDecimal(tracked?.counted ?? "0", "explained positions: counted");
    if (tracked && fill > counted) this.#add(slot, tracked.side, fill - counted);
    const ended =
      e.event !== "FILL" ||
      (tracked !== undefined && fill >= storedDecimal(tracked.qty, "explained positions: qty"));
    if (ended) this.#orders.delete(key);
    else if (tracked) this.#track(key, { ...tracked, counted: formatDecimal(fill) });
    return slot;
  }

  /** The explained quantity of a slot (zero when nothing moved it). */
  qty(slot: PositionSlot): Decimal {
    return this.#qty.get(slotKey(slot)) ?? ZERO;
  }

  /** Every slot with a non-zero explained quantity. */
  slotKeys(): IterableIterator<string> {
    return this.#qty.keys();
  }

  snapshot(): ExplainedSnapshot {
    return {
      v: 1,
      qty: Object.fromEntries([...this.#qty].map(([k, v]) => [k, formatDecimal(v)])),
      orders: Object.fromEntries(this.#orders),
    };
  }

  #add(slot: PositionSlot, side: Side, fill: bigint): void {
    if (fill <= 0n) return;
    const key = slotKey(slot);
    const next = (this.qty(slot) + (side === "BUY" ? fill : -fill)) as Decimal;
    if (next === 0n) this.#qty.delete(key);
    else this.#qty.set(key, next);
  }

  #track(key: string, order: TrackedOrder): void {
    this.#orders.delete(key);
    this.#orders.set(key, order);
    if (this.#orders.size > MAX_TRACKED) this.#orders.delete(this.#orders.keys().next().value as string);
  }
}

function orderKey(venue: VenueName, clientOrderId: string): string {
  return `${venue}|${clientOrderId}`;
}

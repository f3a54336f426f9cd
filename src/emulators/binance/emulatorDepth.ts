import type { Decimal } from "../../core/decimal.js";
import { parseDecimal } from "../../core/decimal.js";

/** One price level of operator-set liquidity (decimal text). */
export interface DepthLevel {
  readonly price: string;
  readonly qty: string;
}

/** A level as the depth holds it. */
export interface HeldLevel {
  readonly price: Decimal;
  qty: Decimal;
}

/** One fill taken from the depth: `qty` at `price`. */
export interface DepthFill {
  readonly price: Decimal;
  readonly qty: Decimal;
}

/**
 * The other side of the market for symbols the operator gave a book: bids
 * (best = highest first) and asks (best = lowest first) that orders take
 * from, level by level, at each level's price. A symbol without a book
 * trades against unlimited liquidity at the mark price instead (see
 * {@link EmulatorBook}).
 */
export class EmulatorDepth {
  readonly #books = new Map<string, { bids: HeldLevel[]; asks: HeldLevel[] }>();

  /** Whether `symbol` trades against a book (else: at the mark). */
  has(symbol: string): boolean {
    return this.#books.has(symbol);
  }

  /** Replaces a symbol's book; throws a TypeError on a malformed level. */
  set(
    symbol: string,
    book: { readonly bids: readonly DepthLevel[]; readonly asks: readonly DepthLevel[] },
  ): void {
    const held = (l: DepthLevel): HeldLevel => {
      const price = parseDecimal(l.price);
      const qty = parseDecimal(l.qty);
      if (price === undefined || price <= 0n || qty === undefined || qty <= 0n)
        throw new TypeError(`book for ${symbol}: level ${JSON.stringify(l)} is not price > 0, qty > 0`);
      return { price, qty };
    };
    this.#books.set(symbol, {
      bids: book.bids.map(held).sort((a, b) => (a.price > b.price ? -1 : a.price < b.price ? 1 : 0)),
      asks: book.asks.map(held).sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0)),
    });
  }

  /** Removes a symbol's book: it trades at the mark again. */
  clear(symbol: string): void {
    this.#books.delete(symbol);
  }

  /** The levels a taker on `side` would trade against (asks for a BUY), best first. */
  levels(symbol: string, side: "bids" | "asks"): readonly HeldLevel[] {
    return this.#books.get(symbol)?.[side] ?? [];
  }

  /** How much a `side` order limited to `limit` (undefined: any price) could take now. */
  crossable(symbol: string, side: "BUY" | "SELL", limit: Decimal | undefined): Decimal {
    let total = 0n;
    for (const l of this.levels(symbol, side === "BUY" ? "asks" : "bids")) {
      if (!crosses(side, l.price, limit)) break;
      total += l.qty;
    }
    return total as Decimal;
  }

  /** Takes up to `qty` for a `side` order limited to `limit`, consuming levels; the fills, best first. */
  take(symbol: string, side: "BUY" | "SELL", limit: Decimal | undefined, qty: Decimal): DepthFill[] {
    const book = this.#books.get(symbol);
    if (book === undefined) return [];
    const levels = side === "BUY" ? book.asks : book.bids;
    const fills: DepthFill[] = [];
    let left = qty as bigint;
    for (const l of levels) {
      if (left === 0n || !crosses(side, l.price, limit)) break;
      const q = l.qty < left ? l.qty : (left as Decimal);
      l.qty = (l.qty - q) as Decimal;
      left -= q;
      fills.push({ price: l.price, qty: q });
    }
    const kept = levels.filter((l) => l.qty > 0n);
    if (side === "BUY") book.asks = kept;
    else book.bids = kept;
    return fills;
  }
}

/** A level at `price` is within a `side` order's `limit` (no limit: any price). */
function crosses(side: "BUY" | "SELL", price: Decimal, limit: Decimal | undefined): boolean {
  if (limit === undefined) return true;
  return side === "BUY" ? price <= limit : price >= limit;
}

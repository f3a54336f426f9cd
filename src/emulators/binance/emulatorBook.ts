import { randomBytes } from "node:crypto";
import { DECIMAL_ONE, type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { type DepthLevel, EmulatorDepth } from "./emulatorDepth.js";
import { type BinanceErrorAnswer, binanceError } from "./emulatorErrors.js";
import type { EmulatorOrder, EmulatorOrderStatus, EmulatorTrade, NewOrder } from "./emulatorOrderTypes.js";
import { checkFilters, type EmulatorSymbol } from "./emulatorSymbols.js";

export type { EmulatorOrder, EmulatorOrderStatus, EmulatorTrade, NewOrder } from "./emulatorOrderTypes.js";

interface OrderRow {
  readonly account: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly order: NewOrder;
  readonly time: number;
  status: EmulatorOrderStatus;
  executedQty: Decimal;
  cumQuote: Decimal;
  updateTime: number;
}

interface PositionRow {
  qty: Decimal;
  entryPrice: Decimal;
  updateTime: number;
}

const ZERO = 0n as Decimal;

/**
 * The emulated exchange: symbols and their rules, mark prices, every order
 * accepted (never forgotten, so tests can count orders per client order id),
 * their fills (trades), and one-way-mode positions per account and symbol.
 *
 * A symbol without a book ({@link EmulatorBook.setDepth}) trades against
 * unlimited liquidity at the mark: MARKET orders fill in full at the mark; a
 * LIMIT order that is marketable (BUY at or above the mark, SELL at or
 * below) fills at the mark (its price or better), otherwise GTC rests `NEW`
 * (IOC/FOK expire, GTX expires when it would take) and fills at its own
 * price once the mark reaches it. A symbol with a book trades against its
 * levels instead: an order takes what crosses, level by level at each
 * level's price (partially when there is not enough), a GTC remainder rests
 * (`PARTIALLY_FILLED` or `NEW`), an IOC or MARKET remainder expires, a FOK
 * that cannot fill in full expires untouched; resting orders fill (at their
 * own price, as makers) when a new book crosses them. A reduce-only order
 * that would open, grow or flip a position is -2022 (and a resting one that
 * no longer reduces when it would fill expires). A client order id is
 * -4116 only while an order with it is still open.
 */
export class EmulatorBook {
  readonly #symbols = new Map<string, EmulatorSymbol>();
  readonly #marks = new Map<string, Decimal>();
  readonly #orders: OrderRow[] = [];
  readonly #positions = new Map<string, PositionRow>();
  readonly #trades: EmulatorTrade[] = [];
  readonly #depth = new EmulatorDepth();
  #nextOrderId = 8_389_765_000;
  #nextTradeId = 512_000_000;

  constructor(symbols: readonly EmulatorSymbol[], marks: Readonly<Record<string, string>>) {
    for (const s of symbols) this.#symbols.set(s.symbol, s);
    for (const [symbol, price] of Object.entries(marks)) this.setMarkPrice(symbol, price, 0);
  }

  /** Listed symbols. */
  symbols(): readonly EmulatorSymbol[] {
    return [...this.#symbols.values()];
  }

  symbol(name: string): EmulatorSymbol | undefined {
    return this.#symbols.get(name);
  }

  /** Lists a symbol, or replaces its rules (the adapter sees them at its next exchangeInfo). */
  putSymbol(symbol: EmulatorSymbol): void {
    this.#symbols.set(symbol.symbol, symbol);
  }

  markPrice(symbol: string): Decimal | undefined {
    return this.#marks.get(symbol);
  }

  /** Sets the mark price; resting LIMIT orders it reaches fill at their own price. */
  setMarkPrice(symbol: string, price: string, now: number): void {
    const value = parseDecimal(price);
    if (value === undefined || value <= 0n)
      throw new TypeError(`mark price for ${symbol}: not a decimal > 0`);
    this.#marks.set(symbol, value);
    if (this.#depth.has(symbol)) return;
    for (const row of this.#orders) {
      if (!isOpen(row.status) || row.order.symbol !== symbol || row.order.price === undefined) continue;
      if (marketable(row.order.side, row.order.price, value))
        this.#fill(row, row.order.price, left(row), now, true);
    }
  }

  /**
   * Gives `symbol` a book of bids and asks (replacing any), then fills the
   * resting orders it crosses, best price first, at their own price.
   */
  setDepth(
    symbol: string,
    book: { readonly bids: readonly DepthLevel[]; readonly asks: readonly DepthLevel[] },
    now: number,
  ): void {
    this.#depth.set(symbol, book);
    const resting = this.#orders
      .filter((r) => isOpen(r.status) && r.order.symbol === symbol && r.order.price !== undefined)
      .sort((a, b) => {
        const pa = a.order.price!;
        const pb = b.order.price!;
        if (pa === pb) return a.time - b.time;
        return a.order.side === "BUY" ? (pa > pb ? -1 : 1) : pa < pb ? -1 : 1;
      });
    for (const row of resting) {
      const fills = this.#depth.take(symbol, row.order.side, row.order.price, left(row));
      const qty = fills.reduce((n, f) => n + f.qty, 0n) as Decimal;
      if (qty > 0n) this.#fill(row, row.order.price!, qty, now, true);
    }
  }

  /** Removes a symbol's book: it trades at the mark again. */
  clearDepth(symbol: string): void {
    this.#depth.clear(symbol);
  }

  /** A symbol's book, best first (empty sides when it trades at the mark). */
  depth(symbol: string): {
    bids: { price: Decimal; qty: Decimal }[];
    asks: { price: Decimal; qty: Decimal }[];
  } {
    const copy = (side: "bids" | "asks") =>
      this.#depth.levels(symbol, side).map((l) => ({ price: l.price, qty: l.qty }));
    return { bids: copy("bids"), asks: copy("asks") };
  }

  /** The account's position (signed), zero when none. */
  position(account: string, symbol: string): Decimal {
    return this.#positions.get(posKey(account, symbol))?.qty ?? ZERO;
  }

  /** Sets a position directly (a back door; entry at the mark price). */
  setPosition(account: string, symbol: string, qty: string, now: number): void {
    const value = parseDecimal(qty, { signed: true });
    if (value === undefined) throw new TypeError(`position for ${symbol}: not a decimal`);
    if (value === 0n) this.#positions.delete(posKey(account, symbol));
    else
      this.#positions.set(posKey(account, symbol), {
        qty: value,
        entryPrice: this.#marks.get(symbol) ?? ZERO,
        updateTime: now,
      });
  }

  /** Positions of one account: every listed symbol (v2 lists flat ones too). */
  positionRows(account: string): { symbol: string; qty: Decimal; entryPrice: Decimal; updateTime: number }[] {
    return this.symbols().map((s) => {
      const p = this.#positions.get(posKey(account, s.symbol));
      return {
        symbol: s.symbol,
        qty: p?.qty ?? ZERO,
        entryPrice: p?.entryPrice ?? ZERO,
        updateTime: p?.updateTime ?? 0,
      };
    });
  }

  /**
   * Places an order after the filters, the duplicate-id and the reduce-only
   * checks; returns the accepted order or the error Binance gives.
   */
  place(account: string, order: NewOrder, now: number): EmulatorOrder | BinanceErrorAnswer {
    const s = this.#symbols.get(order.symbol);
    if (s === undefined || (s.status ?? "TRADING") !== "TRADING") return binanceError(-1121);
    const mark = this.#marks.get(order.symbol);
    if (mark === undefined) return binanceError(-1000);
    const filtered = checkFilters(s, { ...order, notionalPrice: order.price ?? mark });
    if (filtered !== undefined) return filtered;
    const clientOrderId = order.clientOrderId ?? autoClientOrderId();
    const open = this.#orders.some(
      (r) => r.account === account && r.clientOrderId === clientOrderId && isOpen(r.status),
    );
    if (open) return binanceError(-4116);
    if (order.reduceOnly && !reduces(this.position(account, order.symbol), order.side, order.qty)) {
      return binanceError(-2022);
    }
    const row: OrderRow = {
      account,
      orderId: this.#nextOrderId++,
      clientOrderId,
      order,
      time: now,
      status: "NEW",
      executedQty: ZERO,
      cumQuote: ZERO,
      updateTime: now,
    };
    this.#orders.push(row);
    if (this.#depth.has(order.symbol)) {
      this.#takeDepth(row, now);
      return this.#view(row);
    }
    const takes = order.type === "MARKET" || marketable(order.side, order.price!, mark);
    if (takes && order.timeInForce === "GTX") row.status = "EXPIRED";
    else if (takes) this.#fill(row, mark, order.qty, now, false);
    else if (order.timeInForce === "IOC" || order.timeInForce === "FOK") row.status = "EXPIRED";
    return this.#view(row);
  }

  /** A new order against a symbol's book: takes what crosses; the remainder rests (GTC) or expires. */
  #takeDepth(row: OrderRow, now: number): void {
    const { order } = row;
    const limit = order.type === "MARKET" ? undefined : order.price;
    const can = this.#depth.crossable(order.symbol, order.side, limit);
    if ((order.timeInForce === "GTX" && can > 0n) || (order.timeInForce === "FOK" && can < order.qty)) {
      row.status = "EXPIRED";
      return;
    }
    for (const f of this.#depth.take(order.symbol, order.side, limit, order.qty))
      this.#fill(row, f.price, f.qty, now, false);
    if (isOpen(row.status) && (order.type === "MARKET" || order.timeInForce === "IOC")) {
      row.status = "EXPIRED";
      row.updateTime = now;
    }
  }

  /** An account's open orders (NEW or PARTIALLY_FILLED), oldest first, optionally on one symbol. */
  openOrders(account: string, symbol?: string): EmulatorOrder[] {
    return this.#orders
      .filter(
        (r) =>
          r.account === account && isOpen(r.status) && (symbol === undefined || r.order.symbol === symbol),
      )
      .map((r) => this.#view(r));
  }

  /** Cancels every open order of `account` on `symbol`; the orders as canceled. */
  cancelAll(account: string, symbol: string, now: number): EmulatorOrder[] {
    const canceled: EmulatorOrder[] = [];
    for (const r of this.#orders) {
      if (r.account !== account || r.order.symbol !== symbol || !isOpen(r.status)) continue;
      r.status = "CANCELED";
      r.updateTime = now;
      canceled.push(this.#view(r));
    }
    return canceled;
  }

  /** An account's fills on `symbol`, oldest first. */
  trades(account: string, symbol: string): readonly EmulatorTrade[] {
    return this.#trades.filter((t) => t.account === account && t.symbol === symbol);
  }

  /** The latest order of `account` on `symbol` with this client order id, or order id. */
  find(
    account: string,
    symbol: string,
    by: { clientOrderId: string } | { orderId: number },
  ): EmulatorOrder | undefined {
    for (let i = this.#orders.length - 1; i >= 0; i--) {
      const r = this.#orders[i]!;
      if (r.account !== account || r.order.symbol !== symbol) continue;
      if ("clientOrderId" in by ? r.clientOrderId === by.clientOrderId : r.orderId === by.orderId)
        return this.#view(r);
    }
    return undefined;
  }

  /** Cancels an open order; the order as canceled, or undefined when there is no open one. */
  cancel(
    account: string,
    symbol: string,
    by: { clientOrderId: string } | { orderId: number },
    now: number,
  ): EmulatorOrder | undefined {
    for (let i = this.#orders.length - 1; i >= 0; i--) {
      const r = this.#orders[i]!;
      if (r.account !== account || r.order.symbol !== symbol || !isOpen(r.status)) continue;
      if ("clientOrderId" in by ? r.clientOrderId === by.clientOrderId : r.orderId === by.orderId) {
        r.status = "CANCELED";
        r.updateTime = now;
        return this.#view(r);
      }
    }
    return undefined;
  }

  /** Every order accepted, oldest first. */
  orders(): EmulatorOrder[] {
    return this.#orders.map((r) => this.#view(r));
  }

  /**
   * Fills `qty` of an order at `price` (a trade): moves the position; a
   * reduce-only order that would no longer reduce expires instead.
   */
  #fill(row: OrderRow, price: Decimal, qty: Decimal, now: number, maker: boolean): void {
    const { account, order } = row;
    const before = this.position(account, order.symbol);
    if (order.reduceOnly && !reduces(before, order.side, qty)) {
      row.status = "EXPIRED";
      row.updateTime = now;
      return;
    }
    const delta = (order.side === "BUY" ? qty : -qty) as Decimal;
    const after = (before + delta) as Decimal;
    const key = posKey(account, order.symbol);
    const prev = this.#positions.get(key);
    let entry: Decimal;
    if (after === 0n) entry = ZERO;
    else if (before === 0n || before > 0n !== after > 0n) entry = price;
    else if (abs(after) > abs(before))
      entry = ((abs(before) * (prev?.entryPrice ?? price) + abs(delta) * price) / abs(after)) as Decimal;
    else entry = prev?.entryPrice ?? price;
    if (after === 0n) this.#positions.delete(key);
    else this.#positions.set(key, { qty: after, entryPrice: entry, updateTime: now });
    row.executedQty = (row.executedQty + qty) as Decimal;
    row.cumQuote = (row.cumQuote + (qty * price) / DECIMAL_ONE) as Decimal;
    row.status = row.executedQty === order.qty ? "FILLED" : "PARTIALLY_FILLED";
    row.updateTime = now;
    this.#trades.push({
      id: this.#nextTradeId++,
      account,
      orderId: row.orderId,
      symbol: order.symbol,
      side: order.side,
      price,
      qty,
      maker,
      time: now,
    });
  }

  #view(r: OrderRow): EmulatorOrder {
    const avg = r.executedQty === 0n ? ZERO : (((r.cumQuote * DECIMAL_ONE) / r.executedQty) as Decimal);
    return Object.freeze({
      account: r.account,
      orderId: r.orderId,
      clientOrderId: r.clientOrderId,
      symbol: r.order.symbol,
      side: r.order.side,
      type: r.order.type,
      timeInForce: r.order.timeInForce ?? "GTC",
      origQty: formatDecimal(r.order.qty),
      price: formatDecimal(r.order.price ?? ZERO),
      reduceOnly: r.order.reduceOnly,
      status: r.status,
      executedQty: formatDecimal(r.executedQty),
      avgPrice: formatDecimal(avg),
      time: r.time,
      updateTime: r.updateTime,
    });
  }
}

/** What is left to fill of an order. */
function left(row: OrderRow): Decimal {
  return (row.order.qty - row.executedQty) as Decimal;
}

function posKey(account: string, symbol: string): string {
  return JSON.stringify([account, symbol]);
}

function isOpen(status: EmulatorOrderStatus): boolean {
  return status === "NEW" || status === "PARTIALLY_FILLED";
}

function marketable(side: "BUY" | "SELL", price: Decimal, mark: Decimal): boolean {
  return side === "BUY" ? price >= mark : price <= mark;
}

/** A reduce-only order of `qty` on `side` moves `position` towards zero without crossing it. */
function reduces(position: Decimal, side: "BUY" | "SELL", qty: Decimal): boolean {
  if (position === 0n) return false;
  return (side === "SELL" ? position > 0n : position < 0n) && qty <= abs(position);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** A client order id as Binance generates one when none is sent. */
function autoClientOrderId(): string {
  return randomBytes(16).toString("base64url").slice(0, 22);
}

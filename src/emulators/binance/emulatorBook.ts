import { randomBytes } from "node:crypto";
import { DECIMAL_SCALE, type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { type BinanceErrorAnswer, binanceError } from "./emulatorErrors.js";
import { checkFilters, type EmulatorSymbol, fixed } from "./emulatorSymbols.js";

const SCALE = 10n ** BigInt(DECIMAL_SCALE);

/** Binance order statuses the emulator uses. */
export type EmulatorOrderStatus = "NEW" | "PARTIALLY_FILLED" | "FILLED" | "CANCELED" | "EXPIRED";

/** A new order, parsed from `POST /fapi/v1/order`. */
export interface NewOrder {
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly type: "MARKET" | "LIMIT";
  readonly timeInForce: "GTC" | "IOC" | "FOK" | "GTX" | undefined;
  readonly qty: Decimal;
  readonly qtyText: string;
  readonly price: Decimal | undefined;
  readonly priceText: string | undefined;
  readonly reduceOnly: boolean;
  readonly clientOrderId: string | undefined;
}

/** One order the emulator accepted, as it stands (decimals as canonical text). */
export interface EmulatorOrder {
  readonly account: string;
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: "BUY" | "SELL";
  readonly type: "MARKET" | "LIMIT";
  readonly timeInForce: string;
  readonly origQty: string;
  readonly price: string;
  readonly reduceOnly: boolean;
  readonly status: EmulatorOrderStatus;
  readonly executedQty: string;
  readonly avgPrice: string;
  readonly time: number;
  readonly updateTime: number;
}

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
 * and one-way-mode positions per account and symbol. MARKET orders fill in
 * full at the mark price; a LIMIT order that is marketable (BUY at or above
 * the mark, SELL at or below) fills at the mark (its price or better),
 * otherwise GTC rests `NEW` (IOC/FOK expire, GTX expires when it would take)
 * and fills at its own price once the mark reaches it. A reduce-only order
 * that would open, grow or flip a position is -2022 (and a resting one that
 * no longer reduces when it would fill expires). A client order id is
 * -4116 only while an order with it is still open.
 */
export class EmulatorBook {
  readonly #symbols = new Map<string, EmulatorSymbol>();
  readonly #marks = new Map<string, Decimal>();
  readonly #orders: OrderRow[] = [];
  readonly #positions = new Map<string, PositionRow>();
  #nextOrderId = 8_389_765_000;

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
    for (const row of this.#orders) {
      if (row.status !== "NEW" || row.order.symbol !== symbol || row.order.price === undefined) continue;
      if (marketable(row.order.side, row.order.price, value)) this.#fill(row, row.order.price, now);
    }
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
    const takes = order.type === "MARKET" || marketable(order.side, order.price!, mark);
    if (takes && order.timeInForce === "GTX") row.status = "EXPIRED";
    else if (takes) this.#fill(row, mark, now);
    else if (order.timeInForce === "IOC" || order.timeInForce === "FOK") row.status = "EXPIRED";
    return this.#view(row);
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

  /** A filled order moves the position; a resting reduce-only that would no longer reduce expires. */
  #fill(row: OrderRow, price: Decimal, now: number): void {
    const { account, order } = row;
    const before = this.position(account, order.symbol);
    if (order.reduceOnly && !reduces(before, order.side, order.qty)) {
      row.status = "EXPIRED";
      row.updateTime = now;
      return;
    }
    const delta = (order.side === "BUY" ? order.qty : -order.qty) as Decimal;
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
    row.executedQty = order.qty;
    row.cumQuote = ((order.qty * price) / SCALE) as Decimal;
    row.status = "FILLED";
    row.updateTime = now;
  }

  #view(r: OrderRow): EmulatorOrder {
    const avg = r.executedQty === 0n ? ZERO : (((r.cumQuote * SCALE) / r.executedQty) as Decimal);
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

  /** An order in Binance's JSON shape (`GET`/`POST /fapi/v1/order`). */
  orderJson(o: EmulatorOrder): Record<string, unknown> {
    const s = this.#symbols.get(o.symbol);
    const qp = s?.quantityPrecision ?? 3;
    const pp = s?.pricePrecision ?? 2;
    const executed = parseDecimal(o.executedQty)!;
    const avg = parseDecimal(o.avgPrice)!;
    return {
      orderId: o.orderId,
      symbol: o.symbol,
      status: o.status,
      clientOrderId: o.clientOrderId,
      price: fixed(parseDecimal(o.price)!, pp),
      avgPrice: fixed(avg, Math.max(5, pp)),
      origQty: fixed(parseDecimal(o.origQty)!, qp),
      executedQty: fixed(executed, qp),
      cumQty: fixed(executed, qp),
      cumQuote: fixed(((executed * avg) / SCALE) as Decimal, Math.max(5, pp)),
      timeInForce: o.timeInForce,
      type: o.type,
      reduceOnly: o.reduceOnly,
      closePosition: false,
      side: o.side,
      positionSide: "BOTH",
      stopPrice: "0",
      workingType: "CONTRACT_PRICE",
      priceProtect: false,
      origType: o.type,
      priceMatch: "NONE",
      selfTradePreventionMode: "EXPIRE_MAKER",
      goodTillDate: 0,
      time: o.time,
      updateTime: o.updateTime,
    };
  }
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

import { DECIMAL_ONE, type Decimal, parseDecimal } from "../../core/decimal.js";
import type { EmulatorBook, EmulatorOrder, EmulatorTrade } from "./emulatorBook.js";
import { fixed } from "./emulatorSymbols.js";

/**
 * Binance USDⓈ-M JSON shapes of the emulator's orders and trades (decimals
 * as fixed-point text at the symbol's precisions, as Binance writes them).
 */

/** An order in Binance's JSON shape (`GET`/`POST /fapi/v1/order`). */
export function orderJson(book: EmulatorBook, o: EmulatorOrder): Record<string, unknown> {
  const s = book.symbol(o.symbol);
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
    cumQuote: fixed(((executed * avg) / DECIMAL_ONE) as Decimal, Math.max(5, pp)),
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
/** A fill as a row of `GET /fapi/v1/userTrades`. */
export function tradeJson(book: EmulatorBook, t: EmulatorTrade): Record<string, unknown> {
  const s = book.symbol(t.symbol);
  const qp = s?.quantityPrecision ?? 3;
  const pp = s?.pricePrecision ?? 2;
  return {
    buyer: t.side === "BUY",
    commission: "0",
    commissionAsset: s?.quoteAsset ?? "USDT",
    id: t.id,
    maker: t.maker,
    orderId: t.orderId,
    price: fixed(t.price, pp),
    qty: fixed(t.qty, qp),
    quoteQty: fixed(((t.price * t.qty) / DECIMAL_ONE) as Decimal, Math.max(5, pp)),
    realizedPnl: "0",
    side: t.side,
    positionSide: "BOTH",
    symbol: t.symbol,
    time: t.time,
  };
}

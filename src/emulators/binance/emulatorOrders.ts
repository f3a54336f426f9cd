import { BINANCE_CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { DECIMAL_ONE, type Decimal, parseDecimal } from "../../core/decimal.js";
import type { Params } from "./emulatorAuth.js";
import type { EmulatorBook, EmulatorOrder, NewOrder } from "./emulatorBook.js";
import type { EmulatorCountdown } from "./emulatorCountdown.js";
import { type BinanceErrorAnswer, binanceError, isBinanceError } from "./emulatorErrors.js";
import { orderJson } from "./emulatorJson.js";
import { fixed } from "./emulatorSymbols.js";

const DECIMAL_RE = /^[0-9]{1,20}(\.[0-9]{1,18})?$/;
const TIME_IN_FORCE = new Set(["GTC", "IOC", "FOK", "GTX"]);

/** An answer to a request: HTTP status and a JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** A processed new-order request: the answer, and the order when one was placed. */
export interface OrderAnswer extends Answer {
  readonly placed?: EmulatorOrder;
}

const ok = (body: unknown): Answer => ({ status: 200, body });

/**
 * Reads `POST /fapi/v1/order` parameters as Binance does: mandatory
 * `symbol`, `side`, `type`, `quantity` (-1102), `price` and `timeInForce`
 * for LIMIT (-1102) and neither for MARKET (-1106), `reduceOnly` `true`/`false`
 * (-1130), `newClientOrderId` a client order id by Binance's rule (`core/clientOrderId.ts`, -4015),
 * `newOrderRespType` ACK/RESULT (-1136), one-way mode (`positionSide` BOTH,
 * -4061 otherwise). Only MARKET and LIMIT are emulated (-1116 for the rest).
 */
export function parseNewOrder(p: Params): NewOrder | BinanceErrorAnswer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const side = p.get("side");
  if (!side) return binanceError(-1102, "side");
  if (side !== "BUY" && side !== "SELL") return binanceError(-1117);
  const type = p.get("type");
  if (!type) return binanceError(-1102, "type");
  if (type !== "MARKET" && type !== "LIMIT") return binanceError(-1116);
  const qtyText = p.get("quantity");
  const qty = qtyText !== undefined && DECIMAL_RE.test(qtyText) ? parseDecimal(qtyText) : undefined;
  if (qtyText === undefined || qty === undefined) return binanceError(-1102, "quantity");
  const priceText = p.get("price");
  const tif = p.get("timeInForce");
  let price: Decimal | undefined;
  if (type === "LIMIT") {
    price = priceText !== undefined && DECIMAL_RE.test(priceText) ? parseDecimal(priceText) : undefined;
    if (price === undefined) return binanceError(-1102, "price");
    if (!tif) return binanceError(-1102, "timeInForce");
    if (!TIME_IN_FORCE.has(tif)) return binanceError(-1115);
  } else {
    if (priceText !== undefined) return binanceError(-1106, "price");
    if (tif !== undefined) return binanceError(-1106, "timeInForce");
  }
  const reduceOnlyText = p.get("reduceOnly") ?? "false";
  if (reduceOnlyText !== "true" && reduceOnlyText !== "false") return binanceError(-1130, "reduceOnly");
  const clientOrderId = p.get("newClientOrderId");
  if (clientOrderId !== undefined && !isClientOrderId(clientOrderId, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH))
    return binanceError(-4015);
  const respType = p.get("newOrderRespType");
  if (respType !== undefined && respType !== "ACK" && respType !== "RESULT") return binanceError(-1136);
  const positionSide = p.get("positionSide");
  if (positionSide !== undefined && positionSide !== "BOTH") {
    return positionSide === "LONG" || positionSide === "SHORT"
      ? binanceError(-4061)
      : binanceError(-1130, "positionSide");
  }
  return {
    symbol,
    side,
    type,
    timeInForce: type === "LIMIT" ? (tif as NewOrder["timeInForce"]) : undefined,
    qty,
    qtyText,
    price,
    priceText: type === "LIMIT" ? priceText : undefined,
    reduceOnly: reduceOnlyText === "true",
    clientOrderId,
  };
}

/** `POST /fapi/v1/order`: validates, places, answers ACK (default) or RESULT. */
export function placeOrder(book: EmulatorBook, account: string, p: Params, now: number): OrderAnswer {
  const order = parseNewOrder(p);
  if (isBinanceError(order)) return order;
  const placed = book.place(account, order, now);
  if (isBinanceError(placed)) return placed;
  const view = placed;
  const json = orderJson(book, view);
  if ((p.get("newOrderRespType") ?? "ACK") === "ACK") {
    // ACK: the order as acknowledged, before matching.
    const zero = fixed(0n as Decimal, 3);
    return {
      status: 200,
      body: {
        ...json,
        status: "NEW",
        executedQty: zero,
        cumQty: zero,
        cumQuote: "0.00000",
        avgPrice: "0.00000",
      },
      placed: view,
    };
  }
  return { status: 200, body: json, placed: view };
}

/** Which order a query or cancel names: `orderId` or `origClientOrderId` (-1102 when neither). */
function orderSelector(p: Params): { clientOrderId: string } | { orderId: number } | BinanceErrorAnswer {
  const orderId = p.get("orderId");
  if (orderId !== undefined && /^[0-9]{1,18}$/.test(orderId)) return { orderId: Number(orderId) };
  const clientOrderId = p.get("origClientOrderId");
  if (clientOrderId) return { clientOrderId };
  return binanceError(-1102, "", {
    msg: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
  });
}

/** `GET /fapi/v1/order`: the latest matching order, or -2013. */
export function queryOrder(book: EmulatorBook, account: string, p: Params): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const by = orderSelector(p);
  if (isBinanceError(by)) return by;
  const found = book.find(account, symbol, by);
  return found === undefined ? binanceError(-2013) : ok(orderJson(book, found));
}

/** `DELETE /fapi/v1/order`: cancels an open order, or -2011. */
export function cancelOrder(book: EmulatorBook, account: string, p: Params, now: number): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const by = orderSelector(p);
  if (isBinanceError(by)) return by;
  const canceled = book.cancel(account, symbol, by, now);
  return canceled === undefined ? binanceError(-2011) : ok(orderJson(book, canceled));
}

/**
 * `GET /fapi/v2/positionRisk` (every listed symbol, flat ones included) or
 * `/fapi/v3/positionRisk` (open positions only), optionally for one `symbol`.
 */
export function positionRisk(book: EmulatorBook, account: string, p: Params, version: 2 | 3): Answer {
  const symbol = p.get("symbol");
  if (symbol !== undefined && book.symbol(symbol) === undefined) return binanceError(-1121);
  const rows = book
    .positionRows(account)
    .filter((r) => (symbol === undefined || r.symbol === symbol) && (version === 2 || r.qty !== 0n));
  return ok(
    rows.map((r) => {
      const s = book.symbol(r.symbol);
      const qp = s?.quantityPrecision ?? 3;
      const mark = book.markPrice(r.symbol) ?? (0n as Decimal);
      const pnl = (((mark - r.entryPrice) * r.qty) / DECIMAL_ONE) as Decimal;
      const notional = ((mark * r.qty) / DECIMAL_ONE) as Decimal;
      return {
        symbol: r.symbol,
        positionAmt: fixed(r.qty, qp),
        entryPrice: fixed(r.entryPrice, 8),
        breakEvenPrice: fixed(r.entryPrice, 8),
        markPrice: fixed(mark, 8),
        unRealizedProfit: fixed(pnl, 8),
        liquidationPrice: "0",
        leverage: "20",
        maxNotionalValue: "25000000",
        marginType: "cross",
        isolatedMargin: "0.00000000",
        isAutoAddMargin: "false",
        positionSide: "BOTH",
        notional: fixed(notional, 8),
        isolatedWallet: "0",
        updateTime: r.updateTime,
      };
    }),
  );
}

/** `GET /fapi/v1/openOrders`: the account's open orders, on `symbol` or (none given) every symbol. */
export function openOrders(book: EmulatorBook, account: string, p: Params): Answer {
  const symbol = p.get("symbol");
  if (symbol !== undefined && book.symbol(symbol) === undefined) return binanceError(-1121);
  return ok(book.openOrders(account, symbol).map((o) => orderJson(book, o)));
}

/** `GET /fapi/v1/openOrder`: one open order, or -2013 when it is not open (filled, canceled, unknown). */
export function openOrder(book: EmulatorBook, account: string, p: Params): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const by = orderSelector(p);
  if (isBinanceError(by)) return by;
  const found = book
    .openOrders(account, symbol)
    .find((o) => ("orderId" in by ? o.orderId === by.orderId : o.clientOrderId === by.clientOrderId));
  return found === undefined ? binanceError(-2013) : ok(orderJson(book, found));
}

/** `DELETE /fapi/v1/allOpenOrders`: cancels the account's open orders on `symbol` (mandatory). */
export function cancelAllOpenOrders(book: EmulatorBook, account: string, p: Params, now: number): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  if (book.symbol(symbol) === undefined) return binanceError(-1121);
  book.cancelAll(account, symbol, now);
  return ok({ code: 200, msg: "The operation of cancel all open order is done." });
}

/** `POST /fapi/v1/countdownCancelAll`: arms (or, with 0, disarms) the account's auto-cancel on `symbol`. */
export function countdownCancelAll(
  book: EmulatorBook,
  countdown: EmulatorCountdown,
  account: string,
  p: Params,
): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const text = p.get("countdownTime");
  if (text === undefined || !/^[0-9]{1,12}$/.test(text)) return binanceError(-1102, "countdownTime");
  if (book.symbol(symbol) === undefined) return binanceError(-1121);
  countdown.set(account, symbol, Number(text));
  return ok({ symbol, countdownTime: text });
}

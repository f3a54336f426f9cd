import type { Decimal } from "../../core/decimal.js";
import type { Params } from "./emulatorAuth.js";
import type { EmulatorBook } from "./emulatorBook.js";
import { binanceError } from "./emulatorErrors.js";
import type { Answer } from "./emulatorOrders.js";
import { type EmulatorSymbol, fixed } from "./emulatorSymbols.js";

/**
 * Public market data of the emulated exchange: the last price is the mark
 * price (the emulator keeps no trade tape across accounts), the book is the
 * operator-set depth (empty sides for a symbol that trades at the mark).
 * Each endpoint takes an optional `symbol` (-1121 when not listed) and
 * answers one object for it, or an array of every listed symbol.
 */

const ok = (body: unknown): Answer => ({ status: 200, body });
const DEPTH_LIMITS = new Set([5, 10, 20, 50, 100, 500, 1000]);

/** Rows for `symbol` (one object) or all listed symbols (an array), or -1121. */
function perSymbol(
  book: EmulatorBook,
  p: Params,
  row: (s: EmulatorSymbol, mark: Decimal) => unknown,
): Answer {
  const symbol = p.get("symbol");
  if (symbol !== undefined) {
    const s = book.symbol(symbol);
    const mark = book.markPrice(symbol);
    return s === undefined || mark === undefined ? binanceError(-1121) : ok(row(s, mark));
  }
  const rows = [];
  for (const s of book.symbols()) {
    const mark = book.markPrice(s.symbol);
    if (mark !== undefined) rows.push(row(s, mark));
  }
  return ok(rows);
}

/** `GET /fapi/v1/ticker/24hr`: a flat day at the mark (no change, no volume). */
export function ticker24hr(book: EmulatorBook, p: Params, now: number): Answer {
  return perSymbol(book, p, (s, mark) => {
    const m = fixed(mark, s.pricePrecision);
    return {
      symbol: s.symbol,
      priceChange: fixed(0n as Decimal, s.pricePrecision),
      priceChangePercent: "0.000",
      weightedAvgPrice: m,
      lastPrice: m,
      lastQty: "0",
      openPrice: m,
      highPrice: m,
      lowPrice: m,
      volume: "0",
      quoteVolume: "0",
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: 0,
      lastId: 0,
      count: 0,
    };
  });
}

/** `GET /fapi/v1/ticker/price` (and v2): the mark as the last price. */
export function tickerPrice(book: EmulatorBook, p: Params, now: number): Answer {
  return perSymbol(book, p, (s, mark) => ({
    symbol: s.symbol,
    price: fixed(mark, s.pricePrecision),
    time: now,
  }));
}

/** `GET /fapi/v1/ticker/bookTicker`: the best levels of the book (0 when a side is empty). */
export function bookTicker(book: EmulatorBook, p: Params, now: number): Answer {
  return perSymbol(book, p, (s) => {
    const d = book.depth(s.symbol);
    const level = (l: { price: Decimal; qty: Decimal } | undefined) =>
      l === undefined ? ["0", "0"] : [fixed(l.price, s.pricePrecision), fixed(l.qty, s.quantityPrecision)];
    const [bidPrice, bidQty] = level(d.bids[0]);
    const [askPrice, askQty] = level(d.asks[0]);
    return { symbol: s.symbol, bidPrice, bidQty, askPrice, askQty, time: now, lastUpdateId: now };
  });
}

/** `GET /fapi/v1/premiumIndex`: mark = index, no funding. */
export function premiumIndex(book: EmulatorBook, p: Params, now: number): Answer {
  return perSymbol(book, p, (s, mark) => {
    const m = fixed(mark, 8);
    return {
      symbol: s.symbol,
      markPrice: m,
      indexPrice: m,
      estimatedSettlePrice: m,
      lastFundingRate: "0.00000000",
      interestRate: "0.00000000",
      nextFundingTime: (Math.floor(now / 28_800_000) + 1) * 28_800_000,
      time: now,
    };
  });
}

/** `GET /fapi/v1/depth`: `symbol` mandatory, `limit` one of 5…1000 (default 500). */
export function depth(book: EmulatorBook, p: Params, now: number): Answer {
  const symbol = p.get("symbol");
  if (!symbol) return binanceError(-1102, "symbol");
  const s = book.symbol(symbol);
  if (s === undefined) return binanceError(-1121);
  const limitText = p.get("limit") ?? "500";
  if (!DEPTH_LIMITS.has(Number(limitText))) return binanceError(-1130, "limit");
  const d = book.depth(symbol);
  const rows = (levels: { price: Decimal; qty: Decimal }[]) =>
    levels
      .slice(0, Number(limitText))
      .map((l) => [fixed(l.price, s.pricePrecision), fixed(l.qty, s.quantityPrecision)]);
  return ok({ lastUpdateId: now, E: now, T: now, bids: rows(d.bids), asks: rows(d.asks) });
}

import { DECIMAL_ONE, DECIMAL_SCALE, type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { type BinanceErrorAnswer, binanceError } from "./emulatorErrors.js";

/** One USDⓈ-M perpetual the emulator lists, with its trading rules (decimal text, as exchangeInfo gives them). */
export interface EmulatorSymbol {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** `TRADING` unless set otherwise; orders for any other status are refused (-1121 style). */
  readonly status?: string;
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  readonly priceFilter: { readonly minPrice: string; readonly maxPrice: string; readonly tickSize: string };
  readonly lotSize: { readonly minQty: string; readonly maxQty: string; readonly stepSize: string };
  readonly marketLotSize: { readonly minQty: string; readonly maxQty: string; readonly stepSize: string };
  /** MIN_NOTIONAL `notional`: the smallest price × qty of an order that is not reduce-only. */
  readonly minNotional: string;
}

/** BTCUSDT and ETHUSDT with rules shaped like Binance's production listing. */
export const DEFAULT_SYMBOLS: readonly EmulatorSymbol[] = [
  {
    symbol: "BTCUSDT",
    baseAsset: "BTC",
    quoteAsset: "USDT",
    pricePrecision: 2,
    quantityPrecision: 3,
    priceFilter: { minPrice: "261.10", maxPrice: "809484", tickSize: "0.10" },
    lotSize: { minQty: "0.001", maxQty: "1000", stepSize: "0.001" },
    marketLotSize: { minQty: "0.001", maxQty: "120", stepSize: "0.001" },
    minNotional: "100",
  },
  {
    symbol: "ETHUSDT",
    baseAsset: "ETH",
    quoteAsset: "USDT",
    pricePrecision: 2,
    quantityPrecision: 3,
    priceFilter: { minPrice: "39.86", maxPrice: "306177", tickSize: "0.01" },
    lotSize: { minQty: "0.001", maxQty: "10000", stepSize: "0.001" },
    marketLotSize: { minQty: "0.001", maxQty: "2000", stepSize: "0.001" },
    minNotional: "20",
  },
];

/** `GET /fapi/v1/exchangeInfo` for these symbols, in Binance's format. */
export function exchangeInfoBody(symbols: Iterable<EmulatorSymbol>, serverTime: number): unknown {
  return {
    timezone: "UTC",
    serverTime,
    futuresType: "U_MARGINED",
    rateLimits: [
      { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 2400 },
      { rateLimitType: "ORDERS", interval: "MINUTE", intervalNum: 1, limit: 1200 },
      { rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [{ asset: "USDT", marginAvailable: true, autoAssetExchange: "-10000" }],
    symbols: [...symbols].map((s) => ({
      symbol: s.symbol,
      pair: s.symbol,
      contractType: "PERPETUAL",
      deliveryDate: 4133404800000,
      onboardDate: 1569398400000,
      status: s.status ?? "TRADING",
      maintMarginPercent: "2.5000",
      requiredMarginPercent: "5.0000",
      baseAsset: s.baseAsset,
      quoteAsset: s.quoteAsset,
      marginAsset: s.quoteAsset,
      pricePrecision: s.pricePrecision,
      quantityPrecision: s.quantityPrecision,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: "COIN",
      underlyingSubType: [],
      triggerProtect: "0.0500",
      liquidationFee: "0.012500",
      marketTakeBound: "0.05",
      maxMoveOrderLimit: 10000,
      filters: [
        { filterType: "PRICE_FILTER", ...s.priceFilter },
        { filterType: "LOT_SIZE", ...s.lotSize },
        { filterType: "MARKET_LOT_SIZE", ...s.marketLotSize },
        { filterType: "MAX_NUM_ORDERS", limit: 200 },
        { filterType: "MAX_NUM_ALGO_ORDERS", limit: 10 },
        { filterType: "MIN_NOTIONAL", notional: s.minNotional },
        {
          filterType: "PERCENT_PRICE",
          multiplierUp: "1.0500",
          multiplierDown: "0.9500",
          multiplierDecimal: "4",
        },
      ],
      orderTypes: [
        "LIMIT",
        "MARKET",
        "STOP",
        "STOP_MARKET",
        "TAKE_PROFIT",
        "TAKE_PROFIT_MARKET",
        "TRAILING_STOP_MARKET",
      ],
      timeInForce: ["GTC", "IOC", "FOK", "GTX", "GTD"],
    })),
  };
}

/** What the filters look at in one order. */
export interface FilterInput {
  readonly type: "MARKET" | "LIMIT";
  readonly qty: Decimal;
  readonly qtyText: string;
  readonly price: Decimal | undefined;
  readonly priceText: string | undefined;
  /** The price the notional is computed at: the limit price, or the mark price for MARKET. */
  readonly notionalPrice: Decimal;
  readonly reduceOnly: boolean;
}

/**
 * Binance's order filters, in the order the emulator applies them: precision
 * (-1111), LOT_SIZE for LIMIT / MARKET_LOT_SIZE for MARKET (-4003 ≤ 0, -4004
 * below min, -4005 above max, -4023 off the step), PRICE_FILTER (-4013,
 * -4016, -4014 off the tick; a 0 bound is disabled), MIN_NOTIONAL (-4164,
 * reduce-only orders exempt). `undefined` when the order passes.
 */
export function checkFilters(s: EmulatorSymbol, o: FilterInput): BinanceErrorAnswer | undefined {
  if (scaleOf(o.qtyText) > s.quantityPrecision) return binanceError(-1111);
  if (o.priceText !== undefined && scaleOf(o.priceText) > s.pricePrecision) return binanceError(-1111);
  if (o.qty <= 0n) return binanceError(-4003);
  const lot = o.type === "MARKET" ? s.marketLotSize : s.lotSize;
  const minQty = dec(lot.minQty);
  if (o.qty < minQty) return binanceError(-4004);
  if (o.qty > dec(lot.maxQty)) return binanceError(-4005);
  if (!onStep(o.qty, minQty, dec(lot.stepSize))) return binanceError(-4023);
  if (o.price !== undefined) {
    const minPrice = dec(s.priceFilter.minPrice);
    const maxPrice = dec(s.priceFilter.maxPrice);
    if (o.price <= 0n) return binanceError(-1130, "price");
    if (minPrice > 0n && o.price < minPrice) return binanceError(-4013);
    if (maxPrice > 0n && o.price > maxPrice) return binanceError(-4016);
    if (!onStep(o.price, minPrice, dec(s.priceFilter.tickSize))) return binanceError(-4014);
  }
  if (!o.reduceOnly) {
    const min = dec(s.minNotional);
    if (o.qty * o.notionalPrice < min * DECIMAL_ONE) return binanceError(-4164, s.minNotional);
  }
  return undefined;
}

/** Whether `(value - base)` is a whole number of `step`s (a 0 step is disabled). */
function onStep(value: Decimal, base: Decimal, step: Decimal): boolean {
  return step === 0n || (value - base) % step === 0n;
}

/** Fraction digits that carry a value (`"0.0100"` → 2). */
function scaleOf(text: string): number {
  const dot = text.indexOf(".");
  if (dot < 0) return 0;
  return text.slice(dot + 1).replace(/0+$/, "").length;
}

function dec(text: string): Decimal {
  const v = parseDecimal(text);
  if (v === undefined) throw new TypeError(`emulator symbol rule ${JSON.stringify(text)} is not a decimal`);
  return v;
}

/**
 * `value` with exactly `places` fraction digits, as Binance prints quantities
 * and prices (`"0.010"`); rounds half up past `places`.
 * @example fixed(parseDecimal("0.01")!, 3) // "0.010"
 */
export function fixed(value: Decimal, places: number): string {
  const unit = 10n ** BigInt(DECIMAL_SCALE - places);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const rounded = ((abs + unit / 2n) / unit) * unit;
  const text = formatDecimal(rounded as Decimal);
  const [int, frac = ""] = text.split(".");
  const body = places === 0 ? (int as string) : `${int}.${frac.padEnd(places, "0")}`;
  return negative && rounded !== 0n ? `-${body}` : body;
}

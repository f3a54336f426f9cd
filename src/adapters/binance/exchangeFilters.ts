import { DECIMAL_ONE, DECIMAL_SCALE, type Decimal, parseDecimal } from "../../core/decimal.js";
import { type Reason, reason } from "../../core/reasons.js";
import type { VenueOrder } from "../../ports/venue.js";

/** A quantity rule (LOT_SIZE or MARKET_LOT_SIZE). */
export interface QtyRule {
  readonly minQty: Decimal;
  readonly maxQty: Decimal;
  readonly stepSize: Decimal;
}

/** One symbol's trading rules from `GET /fapi/v1/exchangeInfo`. */
export interface SymbolRules {
  readonly symbol: string;
  readonly status: string;
  readonly quantityPrecision: number | undefined;
  readonly pricePrecision: number | undefined;
  readonly price:
    | { readonly minPrice: Decimal; readonly maxPrice: Decimal; readonly tickSize: Decimal }
    | undefined;
  readonly lot: QtyRule | undefined;
  readonly marketLot: QtyRule | undefined;
  /** MIN_NOTIONAL `notional`. */
  readonly minNotional: Decimal | undefined;
}

/** Rules by symbol. */
export type ExchangeRules = ReadonlyMap<string, SymbolRules>;

/**
 * Parses an exchangeInfo body. Returns `undefined` when it is not one (no
 * `symbols` array); a symbol whose filters are malformed is dropped, so
 * orders for it are refused as unknown rather than checked against guesses.
 */
export function parseExchangeInfo(text: string): ExchangeRules | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const symbols = (doc as { symbols?: unknown } | null)?.symbols;
  if (!Array.isArray(symbols)) return undefined;
  const out = new Map<string, SymbolRules>();
  for (const s of symbols) {
    const rules = parseSymbol(s);
    if (rules !== undefined) out.set(rules.symbol, rules);
  }
  return out;
}

function parseSymbol(s: unknown): SymbolRules | undefined {
  if (typeof s !== "object" || s === null) return undefined;
  const r = s as Record<string, unknown>;
  if (typeof r.symbol !== "string" || typeof r.status !== "string" || !Array.isArray(r.filters))
    return undefined;
  let price: SymbolRules["price"];
  let lot: QtyRule | undefined;
  let marketLot: QtyRule | undefined;
  let minNotional: Decimal | undefined;
  for (const f of r.filters as unknown[]) {
    if (typeof f !== "object" || f === null) return undefined;
    const filter = f as Record<string, unknown>;
    switch (filter.filterType) {
      case "PRICE_FILTER": {
        const minPrice = dec(filter.minPrice);
        const maxPrice = dec(filter.maxPrice);
        const tickSize = dec(filter.tickSize);
        if (minPrice === undefined || maxPrice === undefined || tickSize === undefined) return undefined;
        price = { minPrice, maxPrice, tickSize };
        break;
      }
      case "LOT_SIZE":
      case "MARKET_LOT_SIZE": {
        const rule = qtyRule(filter);
        if (rule === undefined) return undefined;
        if (filter.filterType === "LOT_SIZE") lot = rule;
        else marketLot = rule;
        break;
      }
      case "MIN_NOTIONAL": {
        minNotional = dec(filter.notional ?? filter.minNotional);
        if (minNotional === undefined) return undefined;
        break;
      }
    }
  }
  return {
    symbol: r.symbol,
    status: r.status,
    quantityPrecision: Number.isInteger(r.quantityPrecision) ? (r.quantityPrecision as number) : undefined,
    pricePrecision: Number.isInteger(r.pricePrecision) ? (r.pricePrecision as number) : undefined,
    price,
    lot,
    marketLot,
    minNotional,
  };
}

function qtyRule(f: Record<string, unknown>): QtyRule | undefined {
  const minQty = dec(f.minQty);
  const maxQty = dec(f.maxQty);
  const stepSize = dec(f.stepSize);
  return minQty === undefined || maxQty === undefined || stepSize === undefined
    ? undefined
    : { minQty, maxQty, stepSize };
}

function dec(v: unknown): Decimal | undefined {
  return typeof v === "string" ? parseDecimal(v) : undefined;
}

/** A refusal before sending. */
export interface RuleRefusal {
  readonly reason: Reason;
  readonly decision: "DENIED";
}

/**
 * Checks an order against its symbol's rules BEFORE anything is signed or
 * sent, as Binance would, so an order Binance would refuse is refused here
 * with a reason saying which rule:
 *
 * | rule | reason |
 * |---|---|
 * | symbol not listed | `invalid_plan:unknown_symbol` |
 * | symbol status not `TRADING` | `invalid_plan:symbol_not_trading` |
 * | qty not a decimal > 0 | `invalid_plan:qty` |
 * | LIMIT without a price, MARKET with one | `invalid_plan:price` |
 * | LIMIT qty: LOT_SIZE min/max/step, or more decimals than `quantityPrecision` | `invalid_plan:lot_size` |
 * | MARKET qty: MARKET_LOT_SIZE min/max/step, or `quantityPrecision` | `invalid_plan:market_lot_size` |
 * | LIMIT price: PRICE_FILTER min/max/tick (a 0 bound is off), or `pricePrecision` | `invalid_plan:price_filter` |
 * | MARKET, not reduce-only, and no reference price to check MIN_NOTIONAL with | `limit:no_reference_price` |
 * | qty × price below MIN_NOTIONAL (MARKET: the reference price); reduce-only orders are exempt, as on Binance | `limit:min_notional` |
 *
 * All are `DENIED` (the plan breaks the venue's rules; nothing is sent).
 */
export function checkOrderRules(rules: ExchangeRules, order: VenueOrder): RuleRefusal | undefined {
  const deny = (r: Reason): RuleRefusal => ({ reason: r, decision: "DENIED" });
  const s = rules.get(order.symbol);
  if (s === undefined) return deny(reason("invalid_plan", "unknown_symbol"));
  if (s.status !== "TRADING") return deny(reason("invalid_plan", "symbol_not_trading"));
  const qty = parseDecimal(order.qty);
  if (qty === undefined || qty <= 0n) return deny(reason("invalid_plan", "qty"));
  let price: Decimal | undefined;
  if (order.type === "LIMIT") {
    price = order.price === undefined ? undefined : parseDecimal(order.price);
    if (price === undefined || price <= 0n) return deny(reason("invalid_plan", "price"));
  } else if (order.price !== undefined) {
    return deny(reason("invalid_plan", "price"));
  }

  const lot = order.type === "MARKET" ? s.marketLot : s.lot;
  const lotName = order.type === "MARKET" ? "market_lot_size" : "lot_size";
  if (exceedsPrecision(qty, s.quantityPrecision)) return deny(reason("invalid_plan", lotName));
  if (lot !== undefined) {
    if (qty < lot.minQty || qty > lot.maxQty || !onStep(qty, lot.minQty, lot.stepSize))
      return deny(reason("invalid_plan", lotName));
  }
  if (price !== undefined) {
    if (exceedsPrecision(price, s.pricePrecision)) return deny(reason("invalid_plan", "price_filter"));
    const p = s.price;
    if (
      p !== undefined &&
      ((p.minPrice > 0n && price < p.minPrice) ||
        (p.maxPrice > 0n && price > p.maxPrice) ||
        !onStep(price, p.minPrice, p.tickSize))
    )
      return deny(reason("invalid_plan", "price_filter"));
  }
  if (s.minNotional !== undefined && s.minNotional > 0n && !order.reduceOnly) {
    const at = price ?? (order.referencePrice === undefined ? undefined : parseDecimal(order.referencePrice));
    if (at === undefined) return deny(reason("limit", "no_reference_price"));
    if (qty * at < s.minNotional * DECIMAL_ONE) return deny(reason("limit", "min_notional"));
  }
  return undefined;
}

function onStep(value: Decimal, base: Decimal, step: Decimal): boolean {
  return step === 0n || (value - base) % step === 0n;
}

/** Whether `value` has more fraction digits than `precision` allows. */
function exceedsPrecision(value: Decimal, precision: number | undefined): boolean {
  if (precision === undefined || precision >= DECIMAL_SCALE) return false;
  return value % 10n ** BigInt(DECIMAL_SCALE - precision) !== 0n;
}

/** Options of {@link RulesCache}. */
export interface RulesCacheOptions {
  readonly now: () => number;
  /** How long loaded rules are used before reloading. */
  readonly ttlMs: number;
  /** Reads the exchangeInfo body; undefined when it could not be read. */
  readonly load: () => Promise<string | undefined>;
}

/**
 * Exchange rules loaded once and reloaded after `ttlMs` (one load at a time).
 * A failed reload keeps the last good rules: Binance changes filters rarely
 * and enforces its own anyway (a stale rule can make Binance refuse an order,
 * never make it take one it would not).
 */
export class RulesCache {
  readonly #opts: RulesCacheOptions;
  #rules: ExchangeRules | undefined;
  #loadedAt = 0;
  #loading: Promise<ExchangeRules | undefined> | undefined;

  constructor(opts: RulesCacheOptions) {
    this.#opts = opts;
  }

  /** The rules, loading them when absent or older than `ttlMs`; undefined when none could ever be loaded. */
  get(): Promise<ExchangeRules | undefined> {
    if (this.#rules !== undefined && this.#opts.now() - this.#loadedAt < this.#opts.ttlMs) {
      return Promise.resolve(this.#rules);
    }
    this.#loading ??= (async () => {
      const text = await this.#opts.load();
      const rules = text === undefined ? undefined : parseExchangeInfo(text);
      if (rules !== undefined) {
        this.#rules = rules;
        this.#loadedAt = this.#opts.now();
      }
      return this.#rules;
    })().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }
}

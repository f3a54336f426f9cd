import { DECIMAL_ONE, type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { toChecksumAddress } from "../../core/evm/address.js";
import { DECIMAL_PER_UNIT } from "../../core/polymarket/ctfOrder.js";
import { type EmulatorTrade, newTrade } from "./trades.js";

/**
 * The emulated CLOB's state: markets (tick size, neg-risk, minimum size,
 * liquidity), balances per address (conditional tokens, optionally USDC),
 * and the orders it accepted. All amounts are base units (6 decimals) held
 * as bigints; prices are Decimals.
 */

/** One price level of resting liquidity (decimal text). */
export interface EmulatorLevel {
  readonly price: string;
  readonly size: string;
}

/**
 * A market, keyed by outcome token id. `liquidity` is what orders fill
 * against: a book (default: an empty one, as a new market on the CLOB)
 * whose levels are consumed by fills, `none` (nothing ever fills: GTC
 * orders rest, FOK orders are killed), or `unlimited` (not like the venue:
 * every order fills in full at its price, whatever it is). Fills happen at
 * the order's own price (no price improvement). When a market's liquidity
 * is replaced, resting orders it crosses fill (as makers).
 */
export interface EmulatorMarket {
  /** e.g. "0.01". */
  readonly tickSize: string;
  readonly negRisk?: boolean;
  /** Shares; default "5". */
  readonly minOrderSize?: string;
  readonly liquidity?:
    | "unlimited"
    | "none"
    | { readonly bids: readonly EmulatorLevel[]; readonly asks: readonly EmulatorLevel[] };
}

/** An order the emulator accepted (a killed FOK is never one). */
export interface EmulatorOrder {
  /** The EIP-712 order hash: the CLOB's order id. */
  readonly orderHash: string;
  readonly owner: string;
  readonly maker: string;
  readonly signer: string;
  readonly tokenId: string;
  readonly side: "BUY" | "SELL";
  readonly orderType: string;
  /** Domain version the order was signed under. */
  readonly version: string;
  readonly negRisk: boolean;
  /** The exchange the signature was checked against. */
  readonly exchange: string;
  readonly salt: string;
  /** Shares (decimal text). */
  readonly size: string;
  readonly price: string;
  sizeMatched: string;
  status: "LIVE" | "MATCHED" | "CANCELED";
  readonly createdAt: number;
  /** The request body exactly as received. */
  readonly rawBody: string;
}

interface MarketState {
  tickSize: Decimal;
  negRisk: boolean;
  minOrderUnits: bigint;
  liquidity: "unlimited" | "none" | { bids: Level[]; asks: Level[] };
}

interface Level {
  price: Decimal;
  units: bigint;
}

/** Decimal text → base units; throws a TypeError for a malformed or over-precise amount. */
export function toUnits(text: string, what: string): bigint {
  const d = parseDecimal(text);
  if (d === undefined || d % DECIMAL_PER_UNIT !== 0n)
    throw new TypeError(`${what}: ${text} is not a 6-decimal amount`);
  return d / DECIMAL_PER_UNIT;
}

/** Base units → canonical decimal text. */
export const unitsText = (units: bigint): string => formatDecimal((units * DECIMAL_PER_UNIT) as Decimal);

/** Lowercase hex of an address (the map key). */
export const addressKey = (address: string | bigint): string => toChecksumAddress(address).toLowerCase();

/** The emulated exchange: markets, balances and accepted orders, and the matching that moves them. */
export class EmulatorExchange {
  readonly markets = new Map<string, MarketState>();
  readonly orders: EmulatorOrder[] = [];
  /** Every fill of a user's order, oldest first. */
  readonly trades: EmulatorTrade[] = [];
  readonly #byHash = new Map<string, EmulatorOrder>();
  readonly #salts = new Set<string>();
  readonly #tokens = new Map<string, Map<string, bigint>>();
  readonly #collateral = new Map<string, bigint>();

  /** Adds or replaces a market (its liquidity included); resting orders the new liquidity crosses fill. */
  setMarket(tokenId: string, m: EmulatorMarket, nowMs = Date.now()): void {
    const tickSize = parseDecimal(m.tickSize);
    if (tickSize === undefined || tickSize <= 0n || tickSize >= DECIMAL_ONE)
      throw new TypeError(`market ${tokenId}: tickSize`);
    const lv = (l: EmulatorLevel): Level => {
      const price = parseDecimal(l.price);
      if (price === undefined) throw new TypeError(`market ${tokenId}: level price`);
      return { price, units: toUnits(l.size, `market ${tokenId}: level size`) };
    };
    const liq = m.liquidity ?? { bids: [], asks: [] };
    this.markets.set(tokenId, {
      tickSize,
      negRisk: m.negRisk ?? false,
      minOrderUnits: toUnits(m.minOrderSize ?? "5", `market ${tokenId}: minOrderSize`),
      liquidity:
        typeof liq === "string"
          ? liq
          : {
              bids: liq.bids.map(lv).sort((a, b) => (a.price > b.price ? -1 : 1)),
              asks: liq.asks.map(lv).sort((a, b) => (a.price < b.price ? -1 : 1)),
            },
    });
    this.#matchResting(tokenId, nowMs);
  }

  /** Replaces a market's book (keeping its tick size and rules); resting orders it crosses fill. */
  setBook(
    tokenId: string,
    book: { readonly bids: readonly EmulatorLevel[]; readonly asks: readonly EmulatorLevel[] },
    nowMs = Date.now(),
  ): void {
    const m = this.markets.get(tokenId);
    if (m === undefined) throw new TypeError(`market ${tokenId}: not listed`);
    this.setMarket(
      tokenId,
      {
        tickSize: formatDecimal(m.tickSize),
        negRisk: m.negRisk,
        minOrderSize: unitsText(m.minOrderUnits),
        liquidity: book,
      },
      nowMs,
    );
  }

  /** Resting (LIVE) orders of a token, best price first, then oldest: each takes what crosses it. */
  #matchResting(tokenId: string, nowMs: number): void {
    const m = this.markets.get(tokenId);
    if (m === undefined || m.liquidity === "none") return;
    const resting = this.orders
      .filter((o) => o.status === "LIVE" && o.tokenId === tokenId)
      .sort((a, b) => {
        const pa = parseDecimal(a.price)!;
        const pb = parseDecimal(b.price)!;
        if (pa === pb) return a.createdAt - b.createdAt;
        return a.side === "BUY" ? (pa > pb ? -1 : 1) : pa < pb ? -1 : 1;
      });
    for (const o of resting) {
      const price = parseDecimal(o.price)!;
      const left = toUnits(o.size, "size") - toUnits(o.sizeMatched, "size");
      const fill = this.fillable(tokenId, o.side, price, left);
      if (fill === 0n) continue;
      this.#consume(tokenId, o.side, fill);
      this.#settle(o, fill, (fill * price) / DECIMAL_ONE);
      o.sizeMatched = unitsText(toUnits(o.sizeMatched, "size") + fill);
      if (fill === left) o.status = "MATCHED";
      this.trades.push(newTrade(o, { traderSide: "MAKER", units: fill, nowMs }));
    }
  }

  /** Cancels a LIVE order of `owner`; false when it is not one (unknown, another key's, matched, canceled). */
  cancel(hash: string, owner: string): boolean {
    const o = this.order(hash);
    if (o === undefined || o.owner !== owner || o.status !== "LIVE") return false;
    o.status = "CANCELED";
    return true;
  }

  /** LIVE orders of `owner`, oldest first, optionally only those of one token. */
  openOrders(owner: string, tokenId?: string): EmulatorOrder[] {
    return this.orders.filter(
      (o) => o.owner === owner && o.status === "LIVE" && (tokenId === undefined || o.tokenId === tokenId),
    );
  }

  /** An address's balance of a token, in base units. */
  tokenUnits(address: string | bigint, tokenId: string): bigint {
    return this.#tokens.get(addressKey(address))?.get(tokenId) ?? 0n;
  }

  /** Sets an address's balance of a token, in base units. */
  setTokenUnits(address: string | bigint, tokenId: string, units: bigint): void {
    const key = addressKey(address);
    const m = this.#tokens.get(key) ?? new Map<string, bigint>();
    this.#tokens.set(key, m);
    if (units === 0n) m.delete(tokenId);
    else m.set(tokenId, units);
  }

  /** Token balances of an address, by token id (non-zero only). */
  holdings(address: string | bigint): ReadonlyMap<string, bigint> {
    return this.#tokens.get(addressKey(address)) ?? new Map();
  }

  /** USDC units, or undefined when not tracked (unlimited). */
  collateralUnits(address: string | bigint): bigint | undefined {
    return this.#collateral.get(addressKey(address));
  }

  /** Sets an address's USDC in base units; `undefined` makes it unlimited. */
  setCollateralUnits(address: string | bigint, units: bigint | undefined): void {
    if (units === undefined) this.#collateral.delete(addressKey(address));
    else this.#collateral.set(addressKey(address), units);
  }

  /** An accepted order by its hash. */
  order(hash: string): EmulatorOrder | undefined {
    return this.#byHash.get(hash.toLowerCase());
  }

  /** True when the order hash, or the maker's salt, was accepted before. */
  isDuplicate(hash: string, maker: bigint, salt: bigint): boolean {
    return this.#byHash.has(hash.toLowerCase()) || this.#salts.has(`${addressKey(maker)}:${salt}`);
  }

  /** What a new order of `maker` can still commit: balance minus what its resting orders hold. */
  available(maker: bigint, side: "BUY" | "SELL", tokenId: string): bigint | undefined {
    const key = addressKey(maker);
    let reserved = 0n;
    for (const o of this.orders) {
      if (o.status !== "LIVE" || addressKey(o.maker) !== key || o.side !== side) continue;
      const left = toUnits(o.size, "size") - toUnits(o.sizeMatched, "size");
      if (side === "SELL" && o.tokenId === tokenId) reserved += left;
      if (side === "BUY") reserved += (left * (parseDecimal(o.price) ?? 0n)) / DECIMAL_ONE;
    }
    if (side === "SELL") return this.tokenUnits(maker, tokenId) - reserved;
    const usdc = this.collateralUnits(maker);
    return usdc === undefined ? undefined : usdc - reserved;
  }

  /** Shares a marketable order at `price` can fill now (not consuming). */
  fillable(tokenId: string, side: "BUY" | "SELL", price: Decimal, shares: bigint): bigint {
    const m = this.markets.get(tokenId);
    if (m === undefined || m.liquidity === "none") return 0n;
    if (m.liquidity === "unlimited") return shares;
    let total = 0n;
    for (const l of side === "BUY" ? m.liquidity.asks : m.liquidity.bids) {
      if (side === "BUY" ? l.price > price : l.price < price) break;
      total += l.units;
      if (total >= shares) return shares;
    }
    return total;
  }

  /**
   * Records an accepted order and fills `fillShares` of it at its price,
   * moving balances; the trade's id when it filled any.
   */
  accept(
    o: EmulatorOrder,
    fill: {
      readonly saltMaker: bigint;
      readonly salt: bigint;
      readonly shares: bigint;
      readonly usdc: bigint;
      readonly nowMs: number;
    },
  ): string | undefined {
    this.#consume(o.tokenId, o.side, fill.shares);
    this.#settle(o, fill.shares, fill.usdc);
    this.orders.push(o);
    this.#byHash.set(o.orderHash.toLowerCase(), o);
    this.#salts.add(`${addressKey(fill.saltMaker)}:${fill.salt}`);
    if (fill.shares === 0n) return undefined;
    const trade = newTrade(o, { traderSide: "TAKER", units: fill.shares, nowMs: fill.nowMs });
    this.trades.push(trade);
    return trade.id;
  }

  /** Takes `fillShares` off the book's levels on the side a `side` order trades against. */
  #consume(tokenId: string, side: "BUY" | "SELL", fillShares: bigint): void {
    const m = this.markets.get(tokenId);
    if (m !== undefined && typeof m.liquidity === "object") {
      let left = fillShares;
      const levels = side === "BUY" ? m.liquidity.asks : m.liquidity.bids;
      for (const l of levels) {
        if (left === 0n) break;
        let take = left;
        if (l.units < take) take = l.units;
        l.units -= take;
        left -= take;
      }
      const kept = levels.filter((l) => l.units > 0n);
      if (side === "BUY") m.liquidity.asks = kept;
      else m.liquidity.bids = kept;
    }
  }

  /** Moves the maker's tokens and (when tracked) USDC for a fill. */
  #settle(o: EmulatorOrder, fillShares: bigint, fillUsdc: bigint): void {
    const sign = o.side === "BUY" ? 1n : -1n;
    this.setTokenUnits(o.maker, o.tokenId, this.tokenUnits(o.maker, o.tokenId) + sign * fillShares);
    const usdc = this.collateralUnits(o.maker);
    if (usdc !== undefined) this.setCollateralUnits(o.maker, usdc - sign * fillUsdc);
  }
}

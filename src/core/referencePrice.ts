import { type Decimal, formatDecimal } from "./decimal.js";
import { mayGoLiveNow, planMode } from "./gates/venueRoute.js";
import type { OrderPlan, VenueName } from "./plan.js";
import type { Policy } from "./policy.js";

/** A price read from a live venue by the executor's feed, stamped with when it was read. */
export interface LivePrice {
  /** The reference: Binance's mark price, Polymarket's book midpoint. */
  readonly price: Decimal;
  /** Best bid and ask, where the venue has a book (Polymarket). */
  readonly bid?: Decimal;
  readonly ask?: Decimal;
  /** When the executor read it (ms, its own clock). */
  readonly at: number;
  /** What it is: `mark` (Binance), `book_mid` (Polymarket). */
  readonly kind: string;
}

/** Map key of a live price in {@link Policy.livePrices}. */
export const livePriceKey = (venue: VenueName, symbol: string): string => `${venue}\n${symbol}`;

/** The price a decision used, as results record it (`reference`). */
export interface ReferenceUsed {
  /** Canonical decimal text. */
  readonly price: string;
  /** `config` (`venues.paper.prices`), or `<venue>:<kind>` for a live price. */
  readonly source: string;
  /** When a live price was read (ms); null for a configured one, which does not age. */
  readonly at: number | null;
}

/** A plan's reference price, or why there is none. */
export type Reference =
  | {
      readonly kind: "price";
      readonly price: Decimal;
      readonly used: ReferenceUsed;
      readonly live?: LivePrice;
    }
  /** A live venue's price is missing or older than `limits.max_price_age_ms`. */
  | { readonly kind: "stale"; readonly source: string }
  /** No configured price for a paper (or dry-run) plan. */
  | { readonly kind: "none" }
  /** A live-venue plan that cannot go live now: gate 10 denies it `venue_not_ready`, no price is needed. */
  | { readonly kind: "not_ready" };

/**
 * The reference price for `plan` at `now` (wire-v1 §6 gate 9): a plan for
 * a live venue while `live` is on is priced from that venue's own price
 * (`policy.livePrices`), which must be younger than
 * `limits.max_price_age_ms`, never from a typed number; a paper plan (and a
 * dry run, which fills on paper) from `venues.paper.prices`. A live-venue
 * plan that cannot go live now (gate 10 will deny it) needs none.
 */
export function referenceFor(plan: OrderPlan, policy: Policy, now: number): Reference {
  const mode = planMode(plan, policy);
  if (mode === "live" && !mayGoLiveNow(plan, policy)) return { kind: "not_ready" };
  return bookReference({ venue: plan.venue, symbol: plan.symbol, mode }, policy, now);
}

/**
 * The last price read for a live book, however old (undefined when none was
 * ever read): what a reduce-only plan's notional is counted at toward
 * `limits.max_daily_notional` when no fresh price exists, since that cap
 * never refuses it but must not leave it out. The result records it, with
 * the time it was read.
 */
export function lastReadReference(book: BookSymbol, policy: Policy): Reference | undefined {
  if (book.mode !== "live") return undefined;
  const live = policy.livePrices.get(livePriceKey(book.venue, book.symbol));
  if (live === undefined) return undefined;
  const source = `${book.venue}:${live.kind}`;
  return {
    kind: "price",
    price: live.price,
    used: { price: formatDecimal(live.price), source, at: live.at },
    live,
  };
}

/**
 * The reference price of a symbol in a book: a `live` book's from its
 * venue's feed (younger than `limits.max_price_age_ms`, else stale), a
 * `paper` book's from `venues.paper.prices`.
 */
export function bookReference(book: BookSymbol, policy: Policy, now: number): Reference {
  if (book.mode === "live") {
    const live = policy.livePrices.get(livePriceKey(book.venue, book.symbol));
    const source = `${book.venue}:${live?.kind ?? "price"}`;
    if (!fresh(live, policy, now)) return { kind: "stale", source };
    return {
      kind: "price",
      price: live.price,
      used: { price: formatDecimal(live.price), source, at: live.at },
      live,
    };
  }
  return configReference(policy.referencePrices, book.symbol);
}

/**
 * A configured price as a {@link Reference}: built once per price table and
 * symbol (a table never changes: a new config is a new table), since every
 * paper plan asks for one.
 */
function configReference(prices: ReadonlyMap<string, Decimal>, symbol: string): Reference {
  let cached = CONFIG_REFERENCES.get(prices);
  if (cached === undefined) {
    cached = new Map();
    CONFIG_REFERENCES.set(prices, cached);
  }
  let ref = cached.get(symbol);
  if (ref === undefined) {
    const price = prices.get(symbol);
    ref =
      price === undefined
        ? NO_REFERENCE
        : { kind: "price", price, used: { price: formatDecimal(price), source: "config", at: null } };
    // only symbols the table holds are kept, so the cache is no larger than the table
    if (price !== undefined) cached.set(symbol, ref);
  }
  return ref;
}

const CONFIG_REFERENCES = new WeakMap<ReadonlyMap<string, Decimal>, Map<string, Reference>>();
const NO_REFERENCE: Reference = { kind: "none" };

/** Whether a live price was read and is not older than `limits.max_price_age_ms`. */
const fresh = (live: LivePrice | undefined, policy: Policy, now: number): live is LivePrice =>
  live !== undefined && now - live.at <= policy.limits.maxPriceAgeMs;

/** A symbol in a book: what {@link bookPrice} prices. */
export interface BookSymbol {
  readonly venue: VenueName;
  readonly symbol: string;
  readonly mode: "paper" | "live";
}

/**
 * Just the price of {@link bookReference}, for callers that price many
 * books and record none: the price, `stale` (a live price missing or too
 * old) or `none` (no configured price).
 */
export function bookPrice(book: BookSymbol, policy: Policy, now: number): Decimal | "stale" | "none" {
  if (book.mode === "live") {
    const live = policy.livePrices.get(livePriceKey(book.venue, book.symbol));
    return fresh(live, policy, now) ? live.price : "stale";
  }
  return policy.referencePrices.get(book.symbol) ?? "none";
}

/**
 * The price a Polymarket MARKET plan is sent at (a FOK limit): the best ask
 * to buy, the best bid to sell, from the live book; undefined when that side
 * of the book is empty or the price is not a live one.
 */
export function marketOrderPrice(plan: OrderPlan, reference: Reference): Decimal | undefined {
  if (reference.kind !== "price" || reference.live === undefined) return undefined;
  return plan.side === "BUY" ? reference.live.ask : reference.live.bid;
}

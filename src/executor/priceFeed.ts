import { parseDecimal } from "../core/decimal.js";
import type { VenueName } from "../core/plan.js";
import { type LivePrice, livePriceKey } from "../core/referencePrice.js";
import type { MarketPricesOutcome, Venue } from "../ports/venue.js";
import { runEvery } from "./runEvery.js";

/** What a {@link PriceFeed} reports. */
export interface PriceFeedObserver {
  /** One poll of a venue: how many prices it stored, or why it stored none. */
  polled(
    venue: VenueName,
    outcome: { readonly ok: true; readonly count: number } | { readonly ok: false; readonly detail: string },
  ): void;
}

/** What a {@link PriceFeed} needs. */
export interface PriceFeedOptions {
  /** The live venues (read at every poll). */
  readonly venues: () => ReadonlyMap<VenueName, Venue>;
  /** The symbols to read of a venue; empty for every symbol the venue reports. */
  readonly symbols: (venue: VenueName) => readonly string[];
  /** How often each venue is polled. */
  readonly everyMs: (venue: VenueName) => number;
  readonly observer: PriceFeedObserver;
  readonly clock?: () => number;
}

/**
 * The executor's live reference prices (issue 13): polls each live venue's
 * own market data (`Venue.marketPrices`) and keeps the last price of every
 * symbol, stamped with when the poll that read it started, so a price is
 * never younger than it is. A failed poll stores nothing: the prices read
 * before stay and age until gate 9 finds them stale (`limit:stale_price`).
 * {@link snapshot} is an immutable map, replaced whole at every poll.
 */
export class PriceFeed {
  readonly #o: PriceFeedOptions & { readonly clock: () => number };
  #prices: ReadonlyMap<string, LivePrice> = new Map();

  constructor(opts: PriceFeedOptions) {
    this.#o = { clock: Date.now, ...opts };
  }

  /** Every price held, per `livePriceKey(venue, symbol)`. */
  snapshot(): ReadonlyMap<string, LivePrice> {
    return this.#prices;
  }

  /** Polls one venue once. */
  async poll(venue: VenueName): Promise<void> {
    const adapter = this.#o.venues().get(venue);
    if (adapter === undefined) return;
    const at = this.#o.clock();
    const out: MarketPricesOutcome = await adapter
      .marketPrices(this.#o.symbols(venue))
      .catch((err: unknown) => ({ ok: false, detail: messageOf(err) }));
    if (!out.ok) {
      this.#o.observer.polled(venue, { ok: false, detail: out.detail });
      return;
    }
    const next = new Map(this.#prices);
    let count = 0;
    for (const p of out.prices) {
      const price = parseDecimal(p.price);
      if (price === undefined || price <= 0n) continue;
      const bid = p.bid === undefined ? undefined : parseDecimal(p.bid);
      const ask = p.ask === undefined ? undefined : parseDecimal(p.ask);
      next.set(livePriceKey(venue, p.symbol), {
        price,
        ...(bid === undefined ? {} : { bid }),
        ...(ask === undefined ? {} : { ask }),
        at,
        kind: p.kind,
      });
      count++;
    }
    this.#prices = next;
    this.#o.observer.polled(venue, { ok: true, count });
  }

  /** Polls every venue on its own interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(
      [...this.#o.venues().keys()].map((venue) =>
        runEvery({
          signal,
          everyMs: this.#o.everyMs(venue),
          step: () => this.poll(venue),
          failed: (err) =>
            this.#o.observer.polled(venue, {
              ok: false,
              detail: messageOf(err),
            }),
        }),
      ),
    );
  }
}

/** What a failed poll is logged with: the error's message (adapters never put a secret in one). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { inspect } from "node:util";
import { ctfOrderVersion, exchangeFor, type OrderVersion } from "../../core/polymarket/ctfOrder.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import type { Venue } from "../../ports/venue.js";
import { ComposedVenue } from "../composedVenue.js";
import { PolymarketAccount, type PolymarketAccountConfig } from "./accounts.js";
import { ClobHttp } from "./clobHttp.js";
import { MarketCache } from "./marketCache.js";
import { PolymarketOrderControl } from "./orderControl.js";
import { OrderPlacement } from "./orderPlacement.js";
import { type PlaneContext, POLYMARKET_ROUTES, type PolymarketRoutes } from "./planeSigning.js";
import { PolymarketReads } from "./venueReads.js";

/** Options of {@link createPolymarketVenue}. */
export interface PolymarketVenueOptions {
  /** The CLOB, e.g. `https://clob.polymarket.com`, or an emulator's `url`. */
  readonly baseUrl: string;
  /** The data API for {@link Venue.positions} (`https://data-api.polymarket.com` in production); default `baseUrl`. */
  readonly dataApiUrl?: string;
  /** 137 (Polygon, default) or 80002 (Amoy). */
  readonly chainId?: number;
  /** The CTF Exchange EIP-712 domain version orders are built for: "2" (default; production since 2026-04-28) or "1". */
  readonly orderVersion?: OrderVersion;
  /** Per account id (the plan's `account`): what the executor holds. The secret and the private key stay in the plane. */
  readonly accounts: Readonly<Record<string, PolymarketAccountConfig>>;
  /** Signs orders (`per_user_clob_signer`) and L2 headers (`clob_api_signer`). */
  readonly plane: SigningPlane;
  /** The caller id the plane knows this executor as. */
  readonly caller: string;
  /** Signer routes, one per action; default {@link POLYMARKET_ROUTES}. */
  readonly routes?: Partial<PolymarketRoutes>;
  /** Per HTTP request; default 10 000. */
  readonly timeoutMs?: number;
  /** {@link Venue.inFlightMs}; default `timeoutMs` + 60 000 (a late request, within the venue's L2 timestamp window). */
  readonly inFlightMs?: number;
  /** How long market rules are cached; default 60 000. */
  readonly marketCacheMs?: number;
  /** Largest clock offset (venue − local) readiness accepts; default 5 000. */
  readonly maxClockSkewMs?: number;
  /** Token ids whose rules readiness loads ("markets reachable"); default none. */
  readonly markets?: readonly string[];
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** The order salt; default 53 bits from the CSPRNG (a salt travels as a JSON number). A test hook. */
  readonly randomSalt?: () => bigint;
}

/**
 * The Polymarket CLOB venue: orders are CTF Exchange EIP-712 orders (domain
 * version "2" by default, "1" supported), signed through the signing plane,
 * never with a key held here; each is found again by its order hash
 * (`ref.venueRef`), Polymarket having no client order id.
 *
 * `prepare` refuses, before signing anything:
 *
 * | reason | decision | when |
 * |---|---|---|
 * | `venue_error:venue_closed` | FAILED | after `close()` |
 * | `venue_error:unknown_account` | FAILED | no credentials for the order's account |
 * | `invalid_plan:client_order_id` | DENIED | not 1–64 chars of `[.A-Z:/a-z0-9_-]` (kept in the ref, told to the signer) |
 * | `invalid_plan:token_id` | DENIED | the symbol is not a token id (a uint256 in decimal) |
 * | `invalid_plan:qty`, `invalid_plan:price` | DENIED | not a decimal > 0; a LIMIT without a price |
 * | `limit:no_reference_price` | DENIED | a MARKET plan without the executor's reference price |
 * | `venue_error:reduce_only_rejected` | FAILED | a `reduceOnly` BUY (a position is a token balance: buying grows it), or a `reduceOnly` SELL of more than the account holds |
 * | `invalid_plan:unknown_symbol` | DENIED | the CLOB does not know the token (404) |
 * | `venue_error:market_unavailable` | FAILED | the market's rules could not be read |
 * | `venue_error:balance_unavailable` | FAILED | a `reduceOnly` SELL whose balance could not be read |
 * | `invalid_plan:lot_size`, `tick_size`, `price_range`, `min_size`, `amount_precision`; `limit:min_notional` | DENIED | see `orderRules.ts` |
 * | `signer_denied:<reason>` | DENIED (FAILED for `signer_unavailable`) | the plane refused to sign |
 * | `internal_error:signature_mismatch` | FAILED | the plane's signature does not recover to the order's signer |
 *
 * MARKET plans: a Polymarket order always carries a price. A MARKET plan is
 * sent as a FOK order at the plan's reference price (which must be on the
 * tick): it fills in full at that price or better, or is killed
 * (`venue_error:fok_not_filled`, nothing placed). LIMIT plans are GTC orders
 * at their price: what does not fill rests.
 *
 * `send` posts the order once, never retried (see `clobErrors.ts` for how
 * answers map to outcomes; a `reduceOnly` SELL the venue refuses for lack of
 * balance is `venue_error:reduce_only_rejected`). `lookup` asks
 * `GET /data/order/{hash}`. `positions` reads the data API's
 * `GET /positions?user=<funder>&sizeThreshold=0` (every token balance, paged;
 * never negative: a position is a token balance), while the reduce-only
 * check reads the CLOB's own `GET /balance-allowance` (what it checks orders
 * against). `readiness` measures the clock offset (`GET /time`), checks
 * every account's credentials with an L2-signed `GET /auth/api-keys`, and
 * loads the rules of `markets`. `cancel` sends `DELETE /order` once and
 * reports the order's state after it; `keepAlive` sends the account's
 * heartbeat (see `orderControl.ts`).
 *
 * Every L2 header and order signature comes from the plane: the adapter
 * holds the API key id and passphrase only (never printed), never the L2
 * secret or a private key.
 *
 * @example
 * const venue = createPolymarketVenue({
 *   baseUrl: "https://clob.polymarket.com",
 *   dataApiUrl: "https://data-api.polymarket.com",
 *   accounts: { "acct-1": { apiKey, passphrase, address: "0x…" } },
 *   plane,
 *   caller: "executor-1",
 * });
 */
export function createPolymarketVenue(opts: PolymarketVenueOptions): Venue {
  return new PolymarketVenue(opts);
}

class PolymarketVenue extends ComposedVenue {
  readonly name = "polymarket" as const;
  readonly inFlightMs: number;
  readonly #clob: ClobHttp;
  readonly #data: ClobHttp;
  readonly #accountIds: readonly string[];
  readonly #version: OrderVersion;
  readonly #placement: OrderPlacement;
  readonly #control: PolymarketOrderControl;

  constructor(opts: PolymarketVenueOptions) {
    const chainId = opts.chainId ?? 137;
    const version = opts.orderVersion ?? "2";
    const spec = ctfOrderVersion(version);
    if (spec === undefined || exchangeFor(spec, chainId, false) === undefined)
      throw new TypeError(`polymarket: no CTF Exchange V${version} on chain ${chainId}`);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const now = opts.now ?? Date.now;
    const accounts = new Map(
      Object.entries(opts.accounts).map(([id, c]) => [id, new PolymarketAccount(id, c)]),
    );
    const plane: PlaneContext = {
      plane: opts.plane,
      caller: opts.caller,
      routes: { ...POLYMARKET_ROUTES, ...opts.routes },
    };
    const clob = new ClobHttp(opts.baseUrl);
    const data = new ClobHttp(opts.dataApiUrl ?? opts.baseUrl);
    const cache = new MarketCache({ http: clob, ttlMs: opts.marketCacheMs ?? 60_000, timeoutMs, now });
    const reads = new PolymarketReads({
      clob,
      data,
      plane,
      accounts,
      cache,
      timeoutMs,
      maxClockSkewMs: opts.maxClockSkewMs ?? 5_000,
      markets: opts.markets ?? [],
      orderVersion: version,
      now,
    });
    const placement = new OrderPlacement({
      clob,
      plane,
      accounts,
      cache,
      reads,
      chainId,
      orderVersion: version,
      timeoutMs,
      now,
      randomSalt: opts.randomSalt,
    });
    const control = new PolymarketOrderControl({ clob, plane, accounts, reads, timeoutMs, now });
    super({ placement, reads, control });
    this.#version = version;
    this.inFlightMs = opts.inFlightMs ?? timeoutMs + 60_000;
    this.#accountIds = [...accounts.keys()];
    this.#clob = clob;
    this.#data = data;
    this.#placement = placement;
    this.#control = control;
  }

  async close(): Promise<void> {
    this.#placement.close();
    this.#control.close();
    this.#clob.close();
    this.#data.close();
  }

  toJSON(): unknown {
    return { name: this.name, accounts: [...this.#accountIds] };
  }

  [inspect.custom](): string {
    return `PolymarketVenue { accounts: ${JSON.stringify(this.#accountIds)}, orderVersion: '${this.#version}' }`;
  }
}

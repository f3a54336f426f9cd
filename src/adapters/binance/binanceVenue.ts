import { inspect } from "node:util";
import { BINANCE_DEFAULT_RECV_WINDOW_MS, BINANCE_MAX_RECV_WINDOW_MS } from "../../core/binance/recvWindow.js";
import type { SigningPlane } from "../../ports/signingPlane.js";
import type { OrderGuard, Venue } from "../../ports/venue.js";
import { ComposedVenue } from "../composedVenue.js";
import { classifyReadAnswer } from "./binanceErrors.js";
import { BINANCE_DEFAULT_COUNTDOWN_MS, BinanceOrderControl } from "./binanceOrderControl.js";
import { BinanceOrderPlacement } from "./binanceOrderPlacement.js";
import { BinanceReads } from "./binanceReads.js";
import { BINANCE_VENUE, type BinanceAccountOptions, BinanceSession } from "./binanceSession.js";
import { BINANCE_ROUTES, type BinanceRoutes } from "./binanceSigning.js";
import { RulesCache } from "./exchangeFilters.js";

export type { BinanceAccountOptions } from "./binanceSession.js";

/** Options of {@link createBinanceVenue}. */
export interface BinanceVenueOptions {
  /** API root: `https://fapi.binance.com`, a testnet/demo host, or an emulator's URL. */
  readonly baseUrl: string;
  /** IntentGate account id → its API key. The account id is also the signing plane's account. */
  readonly accounts: Readonly<Record<string, BinanceAccountOptions>>;
  /** The signing plane: the adapter asks it for every HMAC and never sees the secret. */
  readonly plane: SigningPlane;
  /** The caller id the plane knows this executor by. */
  readonly caller: string;
  /** `recvWindow` of every signed request; default 5000 (Binance's default; at most 60000). */
  readonly recvWindowMs?: number;
  /** Whole-request deadline; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Added to `recvWindowMs` for {@link Venue.inFlightMs} (clock estimate error, matching-engine lag); default 3000 ms. */
  readonly inFlightMarginMs?: number;
  /** Server-time resync period; default 60 000 ms (and after every -1021). */
  readonly resyncIntervalMs?: number;
  /** How long loaded exchange rules are used before reloading; default 1 h. */
  readonly rulesTtlMs?: number;
  /** How long a credentials check (a signed request that succeeded) counts for readiness; default 60 000 ms. */
  readonly credentialsTtlMs?: number;
  /**
   * `countdownTime` of the dead-man switch armed by `keepAlive`
   * (`countdownCancelAll`): Binance cancels a symbol's open orders when no
   * keep-alive follows within it. Default 60 000 ms; 1000 to 86 400 000 (the
   * signer refuses more than its `max_countdown_ms`, default 300 000).
   */
  readonly countdownMs?: number;
  /** Signing-plane routes; default {@link BINANCE_ROUTES}. */
  readonly routes?: Partial<BinanceRoutes>;
  /** Local clock (ms); default `Date.now`. Must be the executor's clock (`inFlightMs` is measured on it). */
  readonly now?: () => number;
}

/**
 * The Binance USDⓈ-M futures venue adapter behind the {@link Venue} port.
 *
 * - `prepare` checks the order against the symbol's exchangeInfo filters
 *   (see `exchangeFilters.ts`), builds the exact `POST /fapi/v1/order` query
 *   (`newOrderRespType=RESULT`, LIMIT as GTC, `recvWindow`, a `timestamp` on
 *   the server's clock) and has the signing plane sign it (`cex_api_signer`,
 *   the full `target`, the executor's {@link OrderGuard} as `guard_context`).
 *   The ref is the client order id. Nothing is sent.
 * - `send` posts it once on a fresh connection and maps the answer through
 *   `binanceErrors.ts` (the one table of Binance codes → outcomes). A prepared
 *   order older than `recvWindow` is not sent (Binance would refuse it).
 * - `lookup` asks `GET /fapi/v1/order?origClientOrderId=` (-2013 → `not_found`),
 *   `positions` `GET /fapi/v2/positionRisk`, both signed with a
 *   `guard_context` saying why (`reconcile` / `positions` / `readiness`),
 *   on their own routes (the readiness probe on `routes.readiness`) and sent
 *   with the account's read-only API key when one is configured.
 * - `readiness`: exchange rules loaded, server clock synced with
 *   |offset| < recvWindow/2, and every account's key works (a signed request
 *   succeeded within `credentialsTtlMs`).
 * - `cancel` sends `DELETE /fapi/v1/order?origClientOrderId=` once, on the
 *   `cancel` route; `keepAlive` arms `POST /fapi/v1/countdownCancelAll` with
 *   `countdownMs` for each symbol, on the `countdown` route (see
 *   `binanceOrderControl.ts`).
 * - `inFlightMs` = recvWindow + margin: Binance refuses a request whose
 *   timestamp is older than recvWindow, and the timestamp is taken before the
 *   executor records the send, so after it `not_found` is final.
 *
 * Money stays exact decimal text; the API key is never logged, put in an
 * error, or shown by `util.inspect`.
 * @example const venue = createBinanceVenue({ baseUrl, accounts: { a1: { apiKey } }, plane, caller: "exec-a" });
 */
export function createBinanceVenue(opts: BinanceVenueOptions): Venue {
  return new BinanceVenue(opts);
}

class BinanceVenue extends ComposedVenue {
  readonly name = BINANCE_VENUE;
  readonly inFlightMs: number;
  readonly #origin: string;
  readonly #session: BinanceSession;

  constructor(opts: BinanceVenueOptions) {
    const recvWindow = opts.recvWindowMs ?? BINANCE_DEFAULT_RECV_WINDOW_MS;
    if (!Number.isInteger(recvWindow) || recvWindow < 1 || recvWindow > BINANCE_MAX_RECV_WINDOW_MS) {
      throw new RangeError("recvWindowMs must be an integer from 1 to 60000");
    }
    const countdownMs = opts.countdownMs ?? BINANCE_DEFAULT_COUNTDOWN_MS;
    if (!Number.isInteger(countdownMs) || countdownMs < 1000 || countdownMs > 86_400_000) {
      throw new RangeError("countdownMs must be an integer from 1000 to 86400000");
    }
    const origin = new URL(opts.baseUrl).origin;
    const now = opts.now ?? Date.now;
    const session = new BinanceSession({
      baseUrl: opts.baseUrl,
      timeoutMs: opts.timeoutMs ?? 5000,
      accounts: opts.accounts,
      plane: opts.plane,
      caller: opts.caller,
      routes: { ...BINANCE_ROUTES, ...opts.routes },
      recvWindowMs: recvWindow,
      resyncIntervalMs: opts.resyncIntervalMs,
      now,
    });
    const rules = new RulesCache({
      now,
      ttlMs: opts.rulesTtlMs ?? 3_600_000,
      load: async () => {
        const answer = classifyReadAnswer(
          await session.http.request({ method: "GET", path: "/fapi/v1/exchangeInfo" }),
        );
        return answer.kind === "ok" ? answer.text : undefined;
      },
    });
    super({
      placement: new BinanceOrderPlacement({ session, rules }),
      reads: new BinanceReads({ session, rules, credentialsTtlMs: opts.credentialsTtlMs ?? 60_000 }),
      control: new BinanceOrderControl({ session, countdownMs }),
    });
    this.inFlightMs = recvWindow + (opts.inFlightMarginMs ?? 3000);
    this.#origin = origin;
    this.#session = session;
  }

  close(): Promise<void> {
    return this.#session.close();
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, baseUrl: this.#origin, accounts: this.#session.accounts() };
  }

  [inspect.custom](): string {
    return `BinanceVenue { baseUrl: '${this.#origin}', accounts: ${inspect(this.#session.accounts())}, recvWindowMs: ${this.#session.recvWindow}, [REDACTED] }`;
  }
}

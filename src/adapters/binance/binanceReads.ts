import type {
  LookupOutcome,
  MarketPricesOutcome,
  OrderRef,
  PositionsOutcome,
  Readiness,
} from "../../ports/venue.js";
import { classifyReadAnswer, type ReadAnswerClass } from "./binanceErrors.js";
import { parseOrder, parsePositionRisk, parsePremiumIndex } from "./binanceOrders.js";
import { BINANCE_VENUE, type BinanceSession } from "./binanceSession.js";
import type { RulesCache } from "./exchangeFilters.js";

/** Options of {@link BinanceReads}. */
export interface BinanceReadsOptions {
  readonly session: BinanceSession;
  readonly rules: RulesCache;
  /** How long a signed request that succeeded counts as a credentials check for readiness. */
  readonly credentialsTtlMs: number;
}

/**
 * The Binance venue's signed reads: `lookup` (`GET /fapi/v1/order`,
 * -2013 → `not_found`), `positions` (`GET /fapi/v2/positionRisk`) and
 * `readiness` (rules loaded, clock synced within recvWindow/2, every
 * account's key working), each signed with a `guard_context` saying why.
 */
export class BinanceReads {
  readonly #session: BinanceSession;
  readonly #rules: RulesCache;
  readonly #credentialsTtlMs: number;

  constructor(opts: BinanceReadsOptions) {
    this.#session = opts.session;
    this.#rules = opts.rules;
    this.#credentialsTtlMs = opts.credentialsTtlMs;
  }

  /** The port's `lookup`, by client order id (`origClientOrderId`). */
  async lookup(ref: OrderRef): Promise<LookupOutcome> {
    const unavailable = (detail: string): LookupOutcome => ({ kind: "unavailable", detail });
    if (ref.venue !== BINANCE_VENUE) return unavailable("wrong_venue");
    const read = await this.#session.signedRead(ref.account, {
      path: "/fapi/v1/order",
      route: this.#session.routes.queryOrder,
      pairs: [
        ["symbol", ref.symbol],
        ["origClientOrderId", ref.venueRef],
      ],
      target: {
        venue: BINANCE_VENUE,
        action: "query_order",
        symbol: ref.symbol,
        client_order_id: ref.venueRef,
      },
      guard: { purpose: "reconcile", mode: "live", client_order_id: ref.clientOrderId },
    });
    if (read.kind === "not_found") return { kind: "not_found" };
    if (read.kind === "failed") return unavailable(read.detail);
    const order = parseOrder(read.text);
    if (order === undefined || order.clientOrderId !== ref.venueRef || order.symbol !== ref.symbol) {
      return unavailable("bad_response");
    }
    const { clientOrderId: _c, symbol: _s, ...state } = order;
    return { kind: "found", ...state };
  }

  /** The port's `marketPrices`: `GET /fapi/v1/premiumIndex` (public), every symbol's mark price. */
  async marketPrices(symbols: readonly string[]): Promise<MarketPricesOutcome> {
    const read = classifyReadAnswer(
      await this.#session.http.request({ method: "GET", path: "/fapi/v1/premiumIndex" }),
    );
    if (read.kind !== "ok") return { ok: false, detail: read.kind === "failed" ? read.detail : "not_found" };
    const marks = parsePremiumIndex(read.text);
    if (marks === undefined) return { ok: false, detail: "bad_response" };
    const wanted = new Set(symbols);
    return {
      ok: true,
      prices: marks
        .filter((m) => wanted.size === 0 || wanted.has(m.symbol))
        .map((m) => ({ symbol: m.symbol, price: m.markPrice, kind: "mark" })),
    };
  }

  /** The port's `positions`: positionRisk, one signed amount per symbol. */
  async positions(account: string): Promise<PositionsOutcome> {
    const read = await this.#positionRisk(account, "positions");
    if (read.kind !== "ok")
      return { ok: false, detail: read.kind === "failed" ? read.detail : "bad_response" };
    const positions = parsePositionRisk(account, read.text);
    return positions === undefined ? { ok: false, detail: "bad_response" } : { ok: true, positions };
  }

  /**
   * The port's `readiness`: rules loaded, server clock synced with
   * |offset| < recvWindow/2, and per account a signed request that succeeded
   * within `credentialsTtlMs` (else a positionRisk probe on `routes.readiness`).
   */
  async readiness(): Promise<Readiness> {
    const session = this.#session;
    const accountIds = session.accounts();
    if (session.closed) return { ready: false, detail: "closed" };
    if (accountIds.length === 0) return { ready: false, detail: "no accounts configured" };
    const rules = await this.#rules.get();
    if (rules === undefined) return { ready: false, detail: "exchange info unavailable" };
    if (session.clock.needsSync() && !(await session.clock.sync())) {
      return { ready: false, detail: "server time unavailable" };
    }
    const offset = session.clock.offsetMs ?? 0;
    const clock = { clockOffsetMs: offset };
    const recvWindow = session.recvWindow;
    if (Math.abs(offset) >= recvWindow / 2) {
      return {
        ready: false,
        detail: `clock offset ${offset} ms is not within recvWindow/2 (${recvWindow / 2} ms)`,
        ...clock,
      };
    }
    const accounts: Record<string, { ready: boolean; detail: string }> = {};
    let good = 0;
    for (const account of accountIds) {
      const at = session.verifiedAt(account);
      if (at !== undefined && session.now() - at < this.#credentialsTtlMs) {
        accounts[account] = { ready: true, detail: "credentials ok" };
        good++;
        continue;
      }
      const read = await this.#positionRisk(account, "readiness");
      if (read.kind !== "ok" || parsePositionRisk(account, read.text) === undefined) {
        const detail = read.kind === "failed" ? read.detail : "bad_response";
        accounts[account] = { ready: false, detail: `credentials check failed (${detail})` };
      } else {
        accounts[account] = { ready: true, detail: "credentials ok" };
        good++;
      }
    }
    if (good === 0) return { ready: false, detail: "no account's credentials work", accounts, ...clock };
    return {
      ready: true,
      detail: `ready: ${good}/${accountIds.length} account(s), ${rules.size} symbols, clock offset ${offset} ms`,
      accounts,
      ...clock,
    };
  }

  #positionRisk(account: string, purpose: "positions" | "readiness"): Promise<ReadAnswerClass> {
    const routes = this.#session.routes;
    return this.#session.signedRead(account, {
      path: "/fapi/v2/positionRisk",
      route: purpose === "readiness" ? routes.readiness : routes.positionRisk,
      pairs: [],
      target: { venue: BINANCE_VENUE, action: "position_risk" },
      guard: { purpose, mode: "live" },
    });
  }
}

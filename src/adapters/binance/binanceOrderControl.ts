import { reason } from "../../core/reasons.js";
import type { CancelOutcome, KeepAliveOutcome, KeepAliveRequest, OrderRef } from "../../ports/venue.js";
import type { VenueOrderControl } from "../composedVenue.js";
import { type ControlAnswerClass, classifyControlAnswer } from "./binanceErrors.js";
import { parseCountdown, parseOrder } from "./binanceOrders.js";
import { BINANCE_VENUE, type BinanceSession, type SignedRequest } from "./binanceSession.js";
import { isSignerRateDenial } from "./binanceSigning.js";

/** The default dead-man countdown armed by {@link BinanceOrderControl.keepAlive}: 60 s. */
export const BINANCE_DEFAULT_COUNTDOWN_MS = 60_000;

/** Options of {@link BinanceOrderControl}. */
export interface BinanceOrderControlOptions {
  readonly session: BinanceSession;
  /** `countdownTime` of every `countdownCancelAll`; default {@link BINANCE_DEFAULT_COUNTDOWN_MS}. */
  readonly countdownMs?: number | undefined;
}

/**
 * The Binance venue's order control, signed through the signing plane:
 *
 * - `cancel`: `DELETE /fapi/v1/order` with `symbol` and
 *   `origClientOrderId` on `routes.cancel` (signer action `cancel`), sent
 *   once. 200 with the order `CANCELED` → `canceled` with its state; in any
 *   other state, or -2011/-2013 → `not_open`; a rate limit (venue or signer)
 *   → `rejected` `rateLimited`; timeout, dropped answer, 5xx,
 *   -1000/-1006/-1007 → `unknown` (see `binanceErrors.ts`).
 * - `keepAlive`: for each symbol, `POST /fapi/v1/countdownCancelAll` with
 *   `countdownTime = countdownMs` on `routes.countdown` (action
 *   `countdown`): Binance then cancels that symbol's open orders of the
 *   account unless the next keep-alive comes within `countdownMs`.
 *
 * Never throws for venue answers; details are codes, never a secret.
 */
export class BinanceOrderControl implements VenueOrderControl {
  readonly #session: BinanceSession;
  readonly #countdownMs: number;

  constructor(opts: BinanceOrderControlOptions) {
    this.#session = opts.session;
    this.#countdownMs = opts.countdownMs ?? BINANCE_DEFAULT_COUNTDOWN_MS;
  }

  /** The port's `cancel`, by client order id. */
  async cancel(ref: OrderRef): Promise<CancelOutcome> {
    if (ref.venue !== BINANCE_VENUE) {
      return { kind: "rejected", reason: reason("internal_error", "foreign_order"), rateLimited: false };
    }
    const answer = await this.#send(ref.account, {
      method: "DELETE",
      path: "/fapi/v1/order",
      route: this.#session.routes.cancel,
      pairs: [
        ["symbol", ref.symbol],
        ["origClientOrderId", ref.venueRef],
      ],
      target: {
        venue: BINANCE_VENUE,
        action: "cancel",
        symbol: ref.symbol,
        client_order_id: ref.venueRef,
      },
      guard: { purpose: "cancel", mode: "live", client_order_id: ref.clientOrderId },
    });
    if (answer.kind !== "ok") return answer;
    const order = parseOrder(answer.text);
    if (order === undefined || order.clientOrderId !== ref.venueRef || order.symbol !== ref.symbol) {
      return { kind: "unknown", detail: "bad_response" };
    }
    const { clientOrderId: _c, symbol: _s, ...state } = order;
    if (state.status !== "canceled") return { kind: "not_open", detail: `order ${state.status}` };
    return { kind: "canceled", ...state };
  }

  /**
   * The port's `keepAlive`: arms (or refreshes) the countdown of every
   * symbol, each once; `ok` only when every one was armed. A failed symbol
   * does not stop the others.
   */
  async keepAlive(request: KeepAliveRequest): Promise<KeepAliveOutcome> {
    const failures: string[] = [];
    let rateLimited = false;
    for (const symbol of new Set(request.symbols)) {
      const answer = await this.#send(request.account, {
        method: "POST",
        path: "/fapi/v1/countdownCancelAll",
        route: this.#session.routes.countdown,
        pairs: [
          ["symbol", symbol],
          ["countdownTime", String(this.#countdownMs)],
        ],
        target: { venue: BINANCE_VENUE, action: "countdown", symbol, countdown_ms: this.#countdownMs },
        guard: { purpose: "keep_alive", mode: "live" },
      });
      const failure = countdownFailure(answer, symbol, this.#countdownMs);
      if (failure === undefined) continue;
      failures.push(`${symbol}: ${failure}`);
      if (answer.kind === "rejected" && answer.rateLimited) rateLimited = true;
    }
    return failures.length === 0 ? { ok: true } : { ok: false, detail: failures.join("; "), rateLimited };
  }

  /**
   * Sends one signed TRADE request and classifies its answer as a cancel
   * outcome would be; what cannot be sent is `rejected` (nothing changed).
   */
  async #send(account: string, r: SignedRequest): Promise<ControlAttempt> {
    const session = this.#session;
    const out = await session.signedRequest(account, r);
    if (out.kind === "not_sent") {
      return { kind: "rejected", reason: reason("venue_error", out.detail), rateLimited: false };
    }
    if (out.kind === "signer_denied") {
      return { kind: "rejected", reason: out.reason, rateLimited: isSignerRateDenial(out.reason) };
    }
    const answer = classifyControlAnswer(out.http);
    if (answer.kind === "rejected") {
      if (answer.resyncClock) session.resyncSoon();
      if (answer.badCredentials) session.forgetVerified(account);
      return { kind: "rejected", reason: answer.reason, rateLimited: answer.rateLimited };
    }
    // A -2011 is an answer to a request whose signature and key Binance accepted.
    if (answer.kind === "ok" || answer.kind === "not_open") session.markVerified(account);
    return answer;
  }
}

/** A cancel or countdown attempt: the venue's answer as a {@link ControlAnswerClass}, flags dealt with. */
type ControlAttempt =
  | Extract<ControlAnswerClass, { kind: "ok" | "not_open" | "unknown" }>
  | Extract<CancelOutcome, { kind: "rejected" }>;

/** Why a countdown was not armed as asked, or `undefined` when it was. */
function countdownFailure(answer: ControlAttempt, symbol: string, countdownMs: number): string | undefined {
  switch (answer.kind) {
    case "ok": {
      const armed = parseCountdown(answer.text);
      return armed?.symbol === symbol && armed.countdownMs === countdownMs ? undefined : "bad_response";
    }
    case "rejected":
      return answer.reason;
    case "not_open":
    case "unknown":
      return answer.detail;
  }
}

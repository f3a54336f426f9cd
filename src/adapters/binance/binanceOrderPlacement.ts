import { inspect } from "node:util";
import { BINANCE_CLIENT_ORDER_ID_MAX_LENGTH, isClientOrderId } from "../../core/clientOrderId.js";
import { reason, type VenueErrorDetail } from "../../core/reasons.js";
import type {
  OrderGuard,
  OrderRef,
  PreparedOrder,
  PrepareOutcome,
  SendOutcome,
  VenueOrder,
} from "../../ports/venue.js";
import { classifyOrderAnswer } from "./binanceErrors.js";
import { parseOrder } from "./binanceOrders.js";
import { BINANCE_VENUE, type BinanceSession } from "./binanceSession.js";
import { encodeQuery } from "./binanceSigning.js";
import { checkOrderRules, type RulesCache } from "./exchangeFilters.js";

/** A signed order ready to send: the exact form body (query + signature), held out of sight. */
class BinanceTicket {
  readonly #body: string;
  constructor(
    body: string,
    readonly account: string,
    readonly clientOrderId: string,
    /** Local time the timestamp was taken at. */
    readonly signedAt: number,
  ) {
    this.#body = body;
  }
  get body(): string {
    return this.#body;
  }
  toJSON(): string {
    return "[REDACTED]";
  }
  [inspect.custom](): string {
    return `BinanceTicket { clientOrderId: '${this.clientOrderId}', [REDACTED] }`;
  }
}

/** Options of {@link BinanceOrderPlacement}. */
export interface BinanceOrderPlacementOptions {
  readonly session: BinanceSession;
  readonly rules: RulesCache;
}

/**
 * Placing Binance orders in the port's two steps: `prepare` checks the
 * order against the exchange filters, builds the exact `POST /fapi/v1/order`
 * query and has the plane sign it; `send` posts it once on a fresh
 * connection and maps the answer through `binanceErrors.ts`.
 */
export class BinanceOrderPlacement {
  readonly #session: BinanceSession;
  readonly #rules: RulesCache;

  constructor(opts: BinanceOrderPlacementOptions) {
    this.#session = opts.session;
    this.#rules = opts.rules;
  }

  /** The port's `prepare`: the ref is the client order id; nothing is sent. */
  async prepare(order: VenueOrder, guard: OrderGuard): Promise<PrepareOutcome> {
    const failed = (detail: VenueErrorDetail): PrepareOutcome => ({
      ok: false,
      reason: reason("venue_error", detail),
      decision: "FAILED",
    });
    const session = this.#session;
    if (session.closed) return failed("venue_closed");
    if (session.apiKey(order.account) === undefined) return failed("unknown_account");
    if (!isClientOrderId(order.clientOrderId, BINANCE_CLIENT_ORDER_ID_MAX_LENGTH)) {
      return { ok: false, reason: reason("invalid_plan", "client_order_id"), decision: "DENIED" };
    }
    const rules = await this.#rules.get();
    if (rules === undefined) return failed("exchange_info_unavailable");
    const refusal = checkOrderRules(rules, order);
    if (refusal !== undefined) return { ok: false, ...refusal };
    if (!(await session.clock.ensure())) return failed("server_time_unavailable");

    const signedAt = session.now();
    const signed = await session.sign({
      account: order.account,
      route: session.routes.order,
      target: orderTarget(order),
      guard: { ...guard },
      query: encodeQuery(
        orderPairs(order, { recvWindowMs: session.recvWindow, timestamp: session.clock.at(signedAt) }),
      ),
    });
    if (!signed.ok) return { ok: false, reason: signed.reason, decision: "DENIED" };
    const ref: OrderRef = {
      venue: BINANCE_VENUE,
      account: order.account,
      symbol: order.symbol,
      clientOrderId: order.clientOrderId,
      venueRef: order.clientOrderId,
    };
    return {
      ok: true,
      prepared: {
        ref,
        venueData: new BinanceTicket(signed.signed, order.account, order.clientOrderId, signedAt),
      },
    };
  }

  /** The port's `send`: once, never retried; an order older than `recvWindow` is not sent. */
  async send(prepared: PreparedOrder): Promise<SendOutcome> {
    const rejected = (detail: VenueErrorDetail): SendOutcome => ({
      kind: "rejected",
      reason: reason("venue_error", detail),
    });
    const session = this.#session;
    const ticket = prepared.venueData;
    if (!(ticket instanceof BinanceTicket) || ticket.clientOrderId !== prepared.ref.clientOrderId) {
      return rejected("bad_prepared_order");
    }
    if (session.closed) return rejected("venue_closed");
    const apiKey = session.apiKey(ticket.account);
    if (apiKey === undefined) return rejected("unknown_account");
    // Binance refuses a request older than recvWindow (-1021): not sending it is the same outcome, surely.
    if (session.now() - ticket.signedAt >= session.recvWindow) return rejected("prepared_order_expired");
    const http = await session.http.request({
      method: "POST",
      path: "/fapi/v1/order",
      body: ticket.body,
      apiKey,
      freshConnection: true,
    });
    const answer = classifyOrderAnswer(http);
    switch (answer.kind) {
      case "ok": {
        const order = parseOrder(answer.text);
        if (order === undefined || order.clientOrderId !== ticket.clientOrderId) {
          return { kind: "unknown", detail: "bad_response" };
        }
        session.markVerified(ticket.account);
        const { clientOrderId: _c, symbol: _s, ...state } = order;
        return { kind: "placed", ...state };
      }
      case "rejected":
        if (answer.resyncClock) session.resyncSoon();
        if (answer.badCredentials) session.forgetVerified(ticket.account);
        return { kind: "rejected", reason: answer.reason };
      case "already_placed":
        return { kind: "already_placed", detail: answer.detail };
      case "unknown":
        return { kind: "unknown", detail: answer.detail };
    }
  }
}

/**
 * The `POST /fapi/v1/order` query pairs, in the order signed and sent:
 * LIMIT as GTC, `newOrderRespType=RESULT`, `recvWindow`, and `timestamp` on
 * the server's clock.
 */
function orderPairs(
  order: VenueOrder,
  at: { readonly recvWindowMs: number; readonly timestamp: number },
): [string, string][] {
  const pairs: [string, string][] = [
    ["symbol", order.symbol],
    ["side", order.side],
    ["type", order.type],
    ["quantity", order.qty],
  ];
  if (order.type === "LIMIT") pairs.push(["price", order.price as string], ["timeInForce", "GTC"]);
  pairs.push(
    ["reduceOnly", order.reduceOnly ? "true" : "false"],
    ["newClientOrderId", order.clientOrderId],
    ["newOrderRespType", "RESULT"],
    ["recvWindow", String(at.recvWindowMs)],
    ["timestamp", String(at.timestamp)],
  );
  return pairs;
}

/** What the signer is told the order does (`target` of the `order` action). */
function orderTarget(order: VenueOrder): Record<string, unknown> {
  const target: Record<string, unknown> = {
    venue: BINANCE_VENUE,
    action: "order",
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    qty: order.qty,
    reduce_only: order.reduceOnly,
    client_order_id: order.clientOrderId,
  };
  if (order.type === "LIMIT") target.price = order.price;
  if (order.referencePrice !== undefined) target.reference_price = order.referencePrice;
  return target;
}

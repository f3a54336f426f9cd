import type { Decimal } from "../../core/decimal.js";
import { accountInfo, balance, leverageBracket, userTrades } from "./emulatorAccount.js";
import type { Params } from "./emulatorAuth.js";
import type { EmulatorBook, EmulatorOrder } from "./emulatorBook.js";
import type { EmulatorCountdown } from "./emulatorCountdown.js";
import type { EmulatorEndpoint } from "./emulatorFaults.js";
import { bookTicker, depth, premiumIndex, ticker24hr, tickerPrice } from "./emulatorMarketData.js";
import {
  type Answer,
  cancelAllOpenOrders,
  cancelOrder,
  countdownCancelAll,
  openOrder,
  openOrders,
  placeOrder,
  positionRisk,
  queryOrder,
} from "./emulatorOrders.js";
import { exchangeInfoBody } from "./emulatorSymbols.js";

/** One endpoint: its fault name, whether it is SIGNED, whether it TRADEs (read-only keys refused), its handler. */
export interface Route {
  readonly endpoint: EmulatorEndpoint;
  readonly signed: boolean;
  readonly trade?: boolean;
  handle(ctx: { account: string; params: Params; now: number }): Answer & { placed?: EmulatorOrder };
}

/** What the routes act on. */
export interface RouteContext {
  readonly book: EmulatorBook;
  readonly countdown: EmulatorCountdown;
  readonly serverTime: () => number;
  /** An account's USDT wallet balance. */
  readonly wallet: (account: string) => Decimal;
}

/** The emulator's endpoints, by `"METHOD /path"`. */
export function binanceRoutes(c: RouteContext): ReadonlyMap<string, Route> {
  const { book } = c;
  const pub = (endpoint: EmulatorEndpoint, handle: (p: Params, now: number) => Answer): Route => ({
    endpoint,
    signed: false,
    handle: ({ params }) => handle(params, c.serverTime()),
  });
  const signed = (endpoint: EmulatorEndpoint, handle: Route["handle"], trade = false): Route => ({
    endpoint,
    signed: true,
    trade,
    handle,
  });
  const acct = (account: string, now: number) => ({ book, account, wallet: c.wallet(account), now });
  const ok = (body: unknown): Answer => ({ status: 200, body });
  return new Map<string, Route>([
    ["GET /fapi/v1/ping", pub("time", () => ok({}))],
    ["GET /fapi/v1/time", pub("time", () => ok({ serverTime: c.serverTime() }))],
    [
      "GET /fapi/v1/exchangeInfo",
      pub("exchangeInfo", (_p, now) => ok(exchangeInfoBody(book.symbols(), now))),
    ],
    ["GET /fapi/v1/ticker/24hr", pub("marketData", (p, now) => ticker24hr(book, p, now))],
    ["GET /fapi/v1/ticker/price", pub("marketData", (p, now) => tickerPrice(book, p, now))],
    ["GET /fapi/v2/ticker/price", pub("marketData", (p, now) => tickerPrice(book, p, now))],
    ["GET /fapi/v1/ticker/bookTicker", pub("marketData", (p, now) => bookTicker(book, p, now))],
    ["GET /fapi/v1/premiumIndex", pub("marketData", (p, now) => premiumIndex(book, p, now))],
    ["GET /fapi/v1/depth", pub("marketData", (p, now) => depth(book, p, now))],
    ["POST /fapi/v1/order", signed("order", (x) => placeOrder(book, x.account, x.params, x.now), true)],
    ["GET /fapi/v1/order", signed("queryOrder", (x) => queryOrder(book, x.account, x.params))],
    [
      "DELETE /fapi/v1/order",
      signed("cancelOrder", (x) => cancelOrder(book, x.account, x.params, x.now), true),
    ],
    ["GET /fapi/v1/openOrders", signed("openOrders", (x) => openOrders(book, x.account, x.params))],
    ["GET /fapi/v1/openOrder", signed("openOrders", (x) => openOrder(book, x.account, x.params))],
    [
      "DELETE /fapi/v1/allOpenOrders",
      signed("cancelAll", (x) => cancelAllOpenOrders(book, x.account, x.params, x.now), true),
    ],
    [
      "POST /fapi/v1/countdownCancelAll",
      signed("countdown", (x) => countdownCancelAll(book, c.countdown, x.account, x.params), true),
    ],
    ["GET /fapi/v2/positionRisk", signed("positionRisk", (x) => positionRisk(book, x.account, x.params, 2))],
    ["GET /fapi/v3/positionRisk", signed("positionRisk", (x) => positionRisk(book, x.account, x.params, 3))],
    ["GET /fapi/v2/account", signed("account", (x) => accountInfo(acct(x.account, x.now), 2))],
    ["GET /fapi/v3/account", signed("account", (x) => accountInfo(acct(x.account, x.now), 3))],
    ["GET /fapi/v2/balance", signed("account", (x) => balance(acct(x.account, x.now)))],
    ["GET /fapi/v3/balance", signed("account", (x) => balance(acct(x.account, x.now)))],
    ["GET /fapi/v1/userTrades", signed("userTrades", (x) => userTrades(acct(x.account, x.now), x.params))],
    ["GET /fapi/v1/leverageBracket", signed("account", (x) => leverageBracket(book, x.params))],
  ]);
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { formatDecimal } from "../../core/decimal.js";
import { CTF_ORDER_VERSIONS, exchangeFor, type OrderVersion } from "../../core/polymarket/ctfOrder.js";
import { type RequestLogSink, requestLogLine } from "../requestLog.js";
import {
  EmulatorExchange,
  type EmulatorLevel,
  type EmulatorMarket,
  type EmulatorOrder,
  toUnits,
  unitsText,
} from "./emulatorExchange.js";
import { type EmulatorFault, EmulatorFaults } from "./faults.js";
import { DEFAULT_HEARTBEAT_TIMEOUT_MS, Heartbeats } from "./heartbeats.js";
import { type EmulatorApiKey, type L2Failure, L2Keys, UNAUTHORIZED_MESSAGE } from "./l2Auth.js";
import { positionsOf } from "./positions.js";
import { type Answer, orderView, postOrder } from "./postOrder.js";
import type { EmulatorTrade } from "./trades.js";
import { USER_ROUTES, userRoute } from "./userRoutes.js";

export type { EmulatorLevel, EmulatorMarket, EmulatorOrder } from "./emulatorExchange.js";
export type { EmulatorFault, FaultMatch } from "./faults.js";
export { EmulatorFaults } from "./faults.js";
export type { EmulatorApiKey } from "./l2Auth.js";
export type { EmulatorTrade } from "./trades.js";

/** Options of {@link startPolymarketEmulator}. */
export interface PolymarketEmulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Default 137. */
  readonly chainId?: number;
  /** Order domain versions accepted; default ["2"] (production refuses V1 since 2026-04-28). */
  readonly acceptVersions?: readonly OrderVersion[];
  readonly apiKeys?: readonly EmulatorApiKey[];
  /** By outcome token id. */
  readonly markets?: Readonly<Record<string, EmulatorMarket>>;
  /** Token balances (shares, decimal text) by address, then token id. */
  readonly balances?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** USDC by address (decimal text); an address not listed has unlimited USDC. */
  readonly collateral?: Readonly<Record<string, string>>;
  /** How far `POLY_TIMESTAMP` may be from the server's clock; default 30 s. */
  readonly timestampToleranceS?: number;
  /** The server's clock before skew, ms; default `Date.now`. */
  readonly now?: () => number;
  /**
   * How long after a key's last heartbeat its open orders are canceled (ms);
   * default 10 000 as on the CLOB. Only keys that sent a heartbeat are affected.
   */
  readonly heartbeatTimeoutMs?: number;
  /** Rows per page of `GET /data/orders` and `/data/trades`; default 500. */
  readonly pageSize?: number;
  /** Receives one JSON line per request (method, path, status, time; never keys or signatures). */
  readonly requestLog?: RequestLogSink;
}

/** One request the emulator saw. */
export interface EmulatorRequest {
  readonly method: string;
  readonly path: string;
  /** The status answered, or `dropped` / `held` (no answer reached the client in time). */
  readonly outcome: number | "dropped" | "held";
  readonly fault?: EmulatorFault["kind"];
  /** Why L2 authentication failed, when it did. */
  readonly authFailure?: L2Failure;
}

/** A running emulator. */
export interface PolymarketEmulator {
  /** `http://127.0.0.1:<port>`: the CLOB and the data API (`/positions`) both. */
  readonly url: string;
  readonly port: number;
  readonly faults: EmulatorFaults;
  /** Every order accepted, oldest first (a killed FOK is not one). */
  orders(): readonly EmulatorOrder[];
  /** Every request seen, oldest first. */
  requests(): readonly EmulatorRequest[];
  /** Sets an address's balance of a token (shares, decimal text). */
  setBalance(address: string, tokenId: string, shares: string): void;
  /** An address's balance of a token (shares, canonical decimal text). */
  balance(address: string, tokenId: string): string;
  /** Sets an address's USDC (decimal text), or makes it unlimited (`undefined`). */
  setCollateral(address: string, usdc: string | undefined): void;
  setMarket(tokenId: string, market: EmulatorMarket): void;
  /** Replaces a listed market's book (levels of decimal text); resting orders it crosses fill. */
  setBook(
    tokenId: string,
    book: { readonly bids: readonly EmulatorLevel[]; readonly asks: readonly EmulatorLevel[] },
  ): void;
  /** Every fill of a user's order, oldest first. */
  trades(): readonly EmulatorTrade[];
  /** A listed market's tick size (canonical decimal text), or undefined. */
  tickSize(tokenId: string): string | undefined;
  /** Whether an API key has a heartbeat session running (its orders are canceled if it stops). */
  heartbeatActive(apiKey: string): boolean;
  addApiKey(key: EmulatorApiKey): void;
  /** Stops listening, ends held and open connections. */
  close(): Promise<void>;
}

const MAX_BODY = 65_536;

/**
 * Starts a Polymarket CLOB emulator: a real HTTP server on 127.0.0.1 that
 * verifies requests as the CLOB does (L2 headers, EIP-712 order signatures
 * under the market's exchange, tick sizes, sizes, duplicates, balances), for
 * tests and dry runs. Endpoints, shaped as @polymarket/clob-client-v2 and the
 * data API use them:
 *
 * | endpoint | auth | answers |
 * |---|---|---|
 * | `GET /time`, `GET /ok`, `GET /version` | — | server seconds; `"OK"`; `{version}` |
 * | `GET /tick-size`, `/neg-risk`, `/book`, `/fee-rate` `?token_id=` | — | `{minimum_tick_size}`, `{neg_risk}`, the book with `min_order_size`, `{base_fee: 0}`; 404 for an unknown token |
 * | `POST /order` | L2 | `{success, errorMsg, orderID, status, makingAmount, takingAmount, …}` or 400 `{error}` |
 * | `GET /data/order/{hash}` | L2 | the key's order (`OpenOrder`: LIVE, MATCHED or CANCELED), or 404 |
 * | `GET /data/orders`, `GET /data/trades` | L2 | the key's open orders / trades, paged by `next_cursor` |
 * | `DELETE /order`, `/orders`, `/cancel-all`, `/cancel-market-orders` | L2 | `{canceled, not_canceled}` |
 * | `POST /v1/heartbeats` | L2 | `{heartbeat_id}`; no heartbeat within the timeout cancels the key's open orders |
 * | `GET /balance-allowance?asset_type=&token_id=` | L2 | `{balance, allowances}` in base units |
 * | `GET /auth/api-keys` | L2 | `{apiKeys: [key]}` |
 * | `GET /positions?user=&sizeThreshold=&limit=&offset=` | — | the data API's positions (`size` a JSON number; default `sizeThreshold` 1) |
 *
 * L2 failures answer 401 `Unauthorized/Invalid api key` (the reason is in
 * {@link PolymarketEmulator.requests}). Faults: {@link EmulatorFaults}.
 *
 * @example
 * const emu = await startPolymarketEmulator({ apiKeys: [key], markets: { [token]: { tickSize: "0.01" } } });
 * emu.faults.inject({ kind: "drop", process: true }); // the next POST /order is placed, its answer lost
 */
export async function startPolymarketEmulator(
  opts: PolymarketEmulatorOptions = {},
): Promise<PolymarketEmulator> {
  const chainId = opts.chainId ?? 137;
  const acceptVersions: ReadonlySet<OrderVersion> = new Set<OrderVersion>(opts.acceptVersions ?? ["2"]);
  const toleranceS = opts.timestampToleranceS ?? 30;
  const clock = opts.now ?? Date.now;
  const exchange = new EmulatorExchange();
  const keys = new L2Keys();
  const faults = new EmulatorFaults();
  const log: EmulatorRequest[] = [];
  const heartbeats = new Heartbeats({
    timeoutMs: opts.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    expire: (owner) => {
      for (const o of exchange.openOrders(owner)) exchange.cancel(o.orderHash, owner);
    },
  });
  const userCtx = { exchange, heartbeats, pageSize: opts.pageSize ?? 500 };
  const held = new Set<AbortController>();
  for (const k of opts.apiKeys ?? []) keys.add(k);
  for (const [token, m] of Object.entries(opts.markets ?? {})) exchange.setMarket(token, m);
  for (const [addr, tokens] of Object.entries(opts.balances ?? {}))
    for (const [token, shares] of Object.entries(tokens))
      exchange.setTokenUnits(addr, token, toUnits(shares, "balance"));
  for (const [addr, usdc] of Object.entries(opts.collateral ?? {}))
    exchange.setCollateralUnits(addr, toUnits(usdc, "collateral"));
  const serverNow = () => clock() + faults.clockSkewMs;

  const route = (req: IncomingMessage, url: URL, body: string): Reply => {
    const method = req.method ?? "GET";
    const path = url.pathname;
    const q = (name: string) => url.searchParams.get(name) ?? "";
    const authed = () => keys.verify(req.headers, { method, path, body }, serverNow(), toleranceS);
    const unauthorized = (why: L2Failure) => ({
      status: 401,
      body: { error: UNAUTHORIZED_MESSAGE },
      authFailure: why,
    });
    const market = () => exchange.markets.get(q("token_id"));
    const noMarket = { status: 404, body: { error: "market not found" } };
    if (method === "GET") {
      switch (path) {
        case "/time":
          return { status: 200, body: Math.floor(serverNow() / 1000) };
        case "/ok":
          return { status: 200, body: "OK" };
        case "/version":
          return { status: 200, body: { version: acceptVersions.has("2") ? 2 : 1 } };
        case "/tick-size": {
          const m = market();
          return m ? { status: 200, text: `{"minimum_tick_size":${formatDecimal(m.tickSize)}}` } : noMarket;
        }
        case "/neg-risk": {
          const m = market();
          return m ? { status: 200, body: { neg_risk: m.negRisk } } : noMarket;
        }
        case "/fee-rate":
          return market() ? { status: 200, body: { base_fee: 0 } } : noMarket;
        case "/book": {
          const m = market();
          if (!m) return noMarket;
          const levels = (side: "bids" | "asks") =>
            typeof m.liquidity === "object"
              ? m.liquidity[side].map((l) => ({ price: formatDecimal(l.price), size: unitsText(l.units) }))
              : [];
          return {
            status: 200,
            body: {
              market: `0x${"0".repeat(64)}`,
              asset_id: q("token_id"),
              timestamp: String(serverNow()),
              hash: "",
              bids: levels("bids"),
              asks: levels("asks"),
              min_order_size: unitsText(m.minOrderUnits),
              tick_size: formatDecimal(m.tickSize),
              neg_risk: m.negRisk,
              last_trade_price: "0.5",
            },
          };
        }
        case "/positions":
          return {
            status: 200,
            text: positionsOf(exchange, {
              user: q("user"),
              threshold: q("sizeThreshold"),
              limit: q("limit"),
              offset: q("offset"),
            }),
          };
        case "/auth/api-keys": {
          const a = authed();
          return a.ok ? { status: 200, body: { apiKeys: [a.key.key] } } : unauthorized(a.why);
        }
        case "/balance-allowance": {
          const a = authed();
          if (!a.ok) return unauthorized(a.why);
          const spender = exchangeFor(CTF_ORDER_VERSIONS["2"], chainId, false) ?? "";
          const balance =
            q("asset_type") === "COLLATERAL"
              ? (exchange.collateralUnits(a.key.funder) ?? 10n ** 15n)
              : exchange.tokenUnits(a.key.funder, q("token_id"));
          return {
            status: 200,
            body: { balance: balance.toString(), allowances: { [spender]: (2n ** 256n - 1n).toString() } },
          };
        }
      }
      if (path.startsWith("/data/order/")) {
        const a = authed();
        if (!a.ok) return unauthorized(a.why);
        const o = exchange.order(path.slice("/data/order/".length));
        return o && o.owner === a.key.key
          ? { status: 200, body: orderView(o) }
          : { status: 404, body: { error: "order not found" } };
      }
    }
    if (USER_ROUTES.has(`${method} ${path}`)) {
      const a = authed();
      if (!a.ok) return unauthorized(a.why);
      return userRoute(userCtx, { method, path, query: url.searchParams, body }, a.key.key)!;
    }
    if (method === "POST" && path === "/order") {
      const a = authed();
      if (!a.ok) return unauthorized(a.why);
      return postOrder({ exchange, chainId, acceptVersions, nowMs: serverNow() }, a.key, body);
    }
    return { status: 404, body: { error: "not found" } };
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { error: "internal error" } });
      else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = req.method ?? "GET";
    const fault = faults.take(method, url.pathname);
    const startedAt = Date.now();
    const record = (e: EmulatorRequest): void => {
      log.push(e);
      opts.requestLog?.(
        requestLogLine({ method, path: e.path, status: e.outcome, startedAt, endedAt: Date.now() }),
      );
    };
    const entry = (outcome: EmulatorRequest["outcome"], authFailure?: L2Failure): EmulatorRequest => ({
      method,
      path: url.pathname,
      outcome,
      ...(fault ? { fault: fault.kind } : {}),
      ...(authFailure ? { authFailure } : {}),
    });
    if (body === undefined) {
      record(entry(413));
      send(res, { status: 413, body: { error: "payload too large" } });
      return;
    }
    if (fault?.kind === "latency") await sleep(fault.ms);
    const process = fault === undefined || fault.kind === "latency" || fault.process;
    const answer = process ? route(req, url, body) : undefined;
    if (fault?.kind === "drop") {
      record(entry("dropped", answer?.authFailure));
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "timeout") {
      record(entry("held", answer?.authFailure));
      const ac = new AbortController();
      held.add(ac);
      try {
        await sleep(fault.holdMs ?? 60_000, undefined, { signal: ac.signal });
      } catch {
        // closed while held
      } finally {
        held.delete(ac);
      }
      if (ac.signal.aborted || res.destroyed) return;
      send(res, answer ?? { status: 504, body: { error: "timeout" } });
      return;
    }
    if (fault?.kind === "http_5xx") {
      const status = fault.status ?? 500;
      record(entry(status, answer?.authFailure));
      send(res, { status, body: { error: "Internal Server Error" } });
      return;
    }
    const a = answer!;
    record(entry(a.status, a.authFailure));
    send(res, a);
  };

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    faults,
    orders: () => [...exchange.orders],
    requests: () => [...log],
    setBalance: (addr, token, shares) => exchange.setTokenUnits(addr, token, toUnits(shares, "balance")),
    balance: (addr, token) => unitsText(exchange.tokenUnits(addr, token)),
    setCollateral: (addr, usdc) =>
      exchange.setCollateralUnits(addr, usdc === undefined ? undefined : toUnits(usdc, "collateral")),
    setMarket: (token, m) => exchange.setMarket(token, m, serverNow()),
    setBook: (token, book) => exchange.setBook(token, book, serverNow()),
    trades: () => [...exchange.trades],
    tickSize: (token) => {
      const m = exchange.markets.get(token);
      return m === undefined ? undefined : formatDecimal(m.tickSize);
    },
    heartbeatActive: (apiKey) => heartbeats.active(apiKey),
    addApiKey: (k) => keys.add(k),
    close: async () => {
      heartbeats.clear();
      for (const ac of held) ac.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An answer: a JSON body, or JSON text written as is (numbers kept exact). */
type Reply = (Answer | { readonly status: number; readonly text: string }) & {
  readonly authFailure?: L2Failure;
};

function send(res: ServerResponse, answer: Reply): void {
  const text = "text" in answer ? answer.text : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import { type RequestLogSink, requestLogLine } from "../requestLog.js";
import { API_KEY_RE, type Params, parseParams, verifySigned } from "./emulatorAuth.js";
import { EmulatorBook, type EmulatorOrder } from "./emulatorBook.js";
import { EmulatorCountdown } from "./emulatorCountdown.js";
import type { DepthLevel } from "./emulatorDepth.js";
import { binanceError, isBinanceError } from "./emulatorErrors.js";
import {
  type EmulatorEndpoint,
  type EmulatorFault,
  EmulatorFaults,
  faultAfter,
  faultBefore,
} from "./emulatorFaults.js";
import { codeOf, readBody, send } from "./emulatorHttp.js";
import { binanceRoutes } from "./emulatorRoutes.js";
import { DEFAULT_SYMBOLS, type EmulatorSymbol } from "./emulatorSymbols.js";

/** One API key the emulator knows: the account it trades for, and its HMAC secret. */
export interface EmulatorAccountOptions {
  /** The account's name (what the back doors and {@link EmulatorOrder.account} use). */
  readonly name: string;
  /** 64 letters and digits, like Binance's keys. */
  readonly apiKey: string;
  /** The HMAC secret (raw UTF-8 bytes of the text, as Binance issues it). */
  readonly secret: string | SecretBytes;
  /** A key with "reading" permission only: TRADE endpoints (POST / DELETE order) refuse it with -2015. */
  readonly readOnly?: boolean;
  /** The account's USDT wallet balance (decimal text); default {@link DEFAULT_WALLET}. */
  readonly walletBalance?: string;
}

/** The USDT wallet balance of an account not given one. */
export const DEFAULT_WALLET = "10000";

/** Options of {@link startBinanceEmulator}. */
export interface BinanceEmulatorOptions {
  /** Interface to listen on; default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; default 0 (any free port; read {@link BinanceEmulator.url}). */
  readonly port?: number;
  readonly accounts: readonly EmulatorAccountOptions[];
  /** Listed symbols and their rules; default {@link DEFAULT_SYMBOLS}. */
  readonly symbols?: readonly EmulatorSymbol[];
  /** Mark prices MARKET orders fill at; default BTCUSDT 65000, ETHUSDT 3000. */
  readonly markPrices?: Readonly<Record<string, string>>;
  /** The base clock (ms); default `Date.now`. The server time is it plus the injected skew. */
  readonly clock?: () => number;
  /** Receives one JSON line per request (method, path, status, time; never keys or signatures). */
  readonly requestLog?: RequestLogSink;
}

/** One request the emulator received and how it answered. */
export interface EmulatorRequestRecord {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly endpoint: EmulatorEndpoint | undefined;
  /** The account of a verified signed request. */
  readonly account?: string;
  /** HTTP status sent, `"dropped"` (socket destroyed) or `"abandoned"` (the client left while it was held). */
  readonly status: number | "dropped" | "abandoned";
  /** The Binance error code answered, if any. */
  readonly code?: number;
  /** The fault played, if any. */
  readonly fault?: EmulatorFault["kind"];
  /** The order placed by this request, if any. */
  readonly orderId?: number;
}

/** Back doors into the emulated exchange (tests and dry runs). */
export interface EmulatorState {
  /** Sets a mark price; resting LIMIT orders it reaches fill. */
  setMarkPrice(symbol: string, price: string): void;
  markPrice(symbol: string): string | undefined;
  /** Sets an account's position directly (signed decimal text). */
  setPosition(account: string, symbol: string, qty: string): void;
  /** An account's position as canonical signed decimal text (`"0"` when flat). */
  position(account: string, symbol: string): string;
  /** Lists a symbol or replaces its rules. */
  putSymbol(symbol: EmulatorSymbol): void;
  symbol(name: string): EmulatorSymbol | undefined;
  /** Cancels an open order by client order id; false when none is open. */
  cancel(account: string, symbol: string, clientOrderId: string): boolean;
  /** Every order accepted (placed), oldest first, optionally filtered. */
  orders(filter?: {
    readonly account?: string;
    readonly symbol?: string;
    readonly clientOrderId?: string;
  }): EmulatorOrder[];
  /** How many orders were placed with this client order id (the "exactly one order" property). */
  countOrders(clientOrderId: string, account?: string): number;
  /**
   * Gives a symbol a book of bids and asks (decimal text): orders then trade
   * against its levels (partially when short) instead of at the mark, and
   * resting orders it crosses fill. See {@link EmulatorBook}.
   */
  setDepth(
    symbol: string,
    book: { readonly bids: readonly DepthLevel[]; readonly asks: readonly DepthLevel[] },
  ): void;
  /** Removes a symbol's book: it trades at the mark again. */
  clearDepth(symbol: string): void;
  /** Sets an account's USDT wallet balance (decimal text). */
  setWalletBalance(account: string, usdt: string): void;
  /** Whether an auto-cancel countdown is armed for the account on the symbol. */
  countdownArmed(account: string, symbol: string): boolean;
  /** Replaces the HMAC secret the emulator holds for an API key (a rotated key: signatures then fail with -1022). */
  setSecret(apiKey: string, secret: string | SecretBytes): void;
}

/** A running emulator. */
export interface BinanceEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (give it to the adapter as `baseUrl`). */
  readonly url: string;
  readonly port: number;
  readonly faults: EmulatorFaults;
  readonly state: EmulatorState;
  /** Every request received, oldest first. */
  requests(endpoint?: EmulatorEndpoint): EmulatorRequestRecord[];
  /** The server clock now (base clock + skew). */
  serverTime(): number;
  /** Stops listening and drops every connection (held answers included). */
  close(): Promise<void>;
}

const DEFAULT_HOLD_MS = 30_000;
const DEFAULT_MARKS: Readonly<Record<string, string>> = { BTCUSDT: "65000", ETHUSDT: "3000" };

function parseWallet(text: string): Decimal {
  const v = parseDecimal(text);
  if (v === undefined) throw new TypeError(`wallet balance ${JSON.stringify(text)}: not a decimal >= 0`);
  return v;
}

/**
 * Starts a Binance USDⓈ-M futures emulator: a real HTTP server (node:http)
 * that verifies requests exactly as Binance does (API key header, HMAC-SHA256
 * over totalParams, timestamp vs server time and `recvWindow`), enforces the
 * symbol filters, keeps orders and positions per account, and plays injected
 * faults. Endpoints (the table in docs/emulators.md; routes in
 * `emulatorRoutes.ts`): ping, time, exchangeInfo, tickers, premiumIndex,
 * depth; orders (place, query, open orders, cancel, cancel all,
 * countdownCancelAll), account, balance, positionRisk (v2/v3), userTrades,
 * leverageBracket. Parameters of a POST/DELETE may come in the query
 * string, a form body, or both. A key given `readOnly` may read but not
 * trade (-2015 on the TRADE endpoints), as a Binance key with only "Enable
 * Reading" set.
 * For tests and dry runs only: secrets are held in memory.
 * @example
 * const emu = await startBinanceEmulator({ accounts: [{ name: "a1", apiKey, secret }] });
 * emu.faults.inject("order", { kind: "timeout_after_accept" });
 */
export async function startBinanceEmulator(opts: BinanceEmulatorOptions): Promise<BinanceEmulator> {
  const keys = new Map<string, { account: string; secret: SecretBytes; readOnly: boolean }>();
  for (const a of opts.accounts) {
    if (!API_KEY_RE.test(a.apiKey))
      throw new TypeError(`emulator account ${a.name}: an API key is 64 letters and digits`);
    const secret = typeof a.secret === "string" ? new SecretBytes(Buffer.from(a.secret, "utf8")) : a.secret;
    keys.set(a.apiKey, { account: a.name, secret, readOnly: a.readOnly === true });
  }
  const baseClock = opts.clock ?? Date.now;
  const faults = new EmulatorFaults();
  const serverTime = (): number => baseClock() + faults.clockSkewMs;
  const book = new EmulatorBook(opts.symbols ?? DEFAULT_SYMBOLS, opts.markPrices ?? DEFAULT_MARKS);
  const log: EmulatorRequestRecord[] = [];
  const stop = new AbortController();

  const wallets = new Map<string, Decimal>();
  for (const a of opts.accounts) wallets.set(a.name, parseWallet(a.walletBalance ?? DEFAULT_WALLET));
  const countdown = new EmulatorCountdown((account, symbol) => book.cancelAll(account, symbol, serverTime()));
  const routes = binanceRoutes({
    book,
    countdown,
    serverTime,
    wallet: (account) => wallets.get(account) ?? (0n as Decimal),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? "" : rawUrl.slice(q + 1);
    const at = serverTime();
    const startedAt = Date.now();
    const record = (r: Omit<EmulatorRequestRecord, "at" | "method" | "path">): void => {
      log.push({ at, method, path, ...r });
      opts.requestLog?.(requestLogLine({ method, path, status: r.status, startedAt, endedAt: Date.now() }));
    };
    const body = await readBody(req);
    const route = routes.get(`${method} ${path}`);
    if (route === undefined) {
      record({ endpoint: undefined, status: 404 });
      return send(res, { status: 404, body: { code: -1000, msg: "Not found" } });
    }
    if (body === undefined) {
      record({ endpoint: route.endpoint, status: 413 });
      return send(res, { status: 413, body: { code: -1000, msg: "Request body too large" } });
    }
    const isForm = (req.headers["content-type"] ?? "")
      .toLowerCase()
      .startsWith("application/x-www-form-urlencoded");
    const formBody = method === "GET" || !isForm ? "" : body;

    let account = "";
    let params: Params = new Map();
    if (route.signed) {
      const header = req.headers["x-mbx-apikey"];
      const verified = verifySigned({
        apiKey: typeof header === "string" ? header : undefined,
        query,
        body: formBody,
        keys,
        trade: route.trade === true,
        serverTime: serverTime(),
      });
      if (isBinanceError(verified)) {
        record({ endpoint: route.endpoint, status: verified.status, code: verified.body.code });
        return send(res, verified);
      }
      account = verified.account;
      params = verified.params;
    } else {
      const parsed = parseParams(query);
      if (isBinanceError(parsed)) {
        record({ endpoint: route.endpoint, status: parsed.status, code: parsed.body.code });
        return send(res, parsed);
      }
      params = parsed;
    }
    const reduceOnly = route.endpoint === "order" && params.get("reduceOnly") === "true";
    const fault = faults.take(route.endpoint, { reduceOnly });
    const rec = (
      r: Omit<EmulatorRequestRecord, "at" | "method" | "path" | "endpoint" | "account" | "fault">,
    ) =>
      record({
        endpoint: route.endpoint,
        ...(account ? { account } : {}),
        ...(fault ? { fault: fault.kind } : {}),
        ...r,
      });

    if (fault?.kind === "latency")
      await sleep(fault.ms, undefined, { signal: stop.signal }).catch(() => undefined);
    // Faults that answer before anything is processed.
    const before = faultBefore(fault);
    if (before === "drop") {
      rec({ status: "dropped" });
      req.socket.destroy();
      return;
    }
    if (before !== undefined) {
      rec({ status: before.status, ...codeOf(before) });
      return send(res, before);
    }
    const answer = route.handle({ account, params, now: serverTime() });
    const orderId = answer.placed?.orderId;
    const placed = orderId === undefined ? {} : { orderId };
    // Faults that answer after the request was processed.
    if (fault?.kind === "drop_response") {
      rec({ status: "dropped", ...placed });
      req.socket.destroy();
      return;
    }
    const after = faultAfter(fault);
    if (after !== undefined) {
      rec({ status: after.status, ...codeOf(after), ...placed });
      return send(res, after);
    }
    if (fault?.kind === "timeout_after_accept") {
      let left = false;
      const gone = new Promise<void>((r) =>
        res.once("close", () => {
          left = true;
          r();
        }),
      );
      await Promise.race([
        sleep(fault.holdMs ?? DEFAULT_HOLD_MS, undefined, { signal: stop.signal }),
        gone,
      ]).catch(() => undefined);
      if (left || res.destroyed || req.socket.destroyed || stop.signal.aborted) {
        rec({ status: "abandoned", ...placed });
        res.destroy();
        return;
      }
    }
    rec({ status: answer.status, ...codeOf(answer), ...placed });
    send(res, answer);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, binanceError(-1000));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  const state: EmulatorState = {
    setMarkPrice: (symbol, price) => book.setMarkPrice(symbol, price, serverTime()),
    setDepth: (symbol, levels) => book.setDepth(symbol, levels, serverTime()),
    clearDepth: (symbol) => book.clearDepth(symbol),
    setWalletBalance: (account, usdt) => {
      wallets.set(account, parseWallet(usdt));
    },
    countdownArmed: (account, symbol) => countdown.armed(account, symbol),
    markPrice: (symbol) => {
      const m = book.markPrice(symbol);
      return m === undefined ? undefined : formatDecimal(m);
    },
    setPosition: (account, symbol, qty) => book.setPosition(account, symbol, qty, serverTime()),
    position: (account, symbol) => formatDecimal(book.position(account, symbol)),
    putSymbol: (symbol) => book.putSymbol(symbol),
    symbol: (name) => book.symbol(name),
    cancel: (account, symbol, clientOrderId) =>
      book.cancel(account, symbol, { clientOrderId }, serverTime()) !== undefined,
    orders: (filter = {}) =>
      book
        .orders()
        .filter(
          (o) =>
            (filter.account === undefined || o.account === filter.account) &&
            (filter.symbol === undefined || o.symbol === filter.symbol) &&
            (filter.clientOrderId === undefined || o.clientOrderId === filter.clientOrderId),
        ),
    setSecret: (apiKey, secret) => {
      const entry = keys.get(apiKey);
      if (entry === undefined) throw new Error("setSecret: unknown API key");
      keys.set(apiKey, {
        ...entry,
        account: entry.account,
        secret: typeof secret === "string" ? new SecretBytes(Buffer.from(secret, "utf8")) : secret,
      });
    },
    countOrders: (clientOrderId, account) =>
      book
        .orders()
        .filter((o) => o.clientOrderId === clientOrderId && (account === undefined || o.account === account))
        .length,
  };

  let closing: Promise<void> | undefined;
  const emulator: BinanceEmulator = {
    url: `http://${host}:${address.port}`,
    port: address.port,
    faults,
    state,
    requests: (endpoint) => log.filter((r) => endpoint === undefined || r.endpoint === endpoint),
    serverTime,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stop.abort();
        countdown.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  Object.defineProperty(emulator, inspect.custom, {
    value: () => `BinanceEmulator { url: '${emulator.url}', accounts: ${keys.size}, [REDACTED] }`,
  });
  return emulator;
}

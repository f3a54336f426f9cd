import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { formatDecimal } from "../../core/decimal.js";
import { API_KEY_RE, type Params, verifySigned } from "./emulatorAuth.js";
import { EmulatorBook, type EmulatorOrder } from "./emulatorBook.js";
import { binanceError, isBinanceError } from "./emulatorErrors.js";
import {
  type EmulatorEndpoint,
  type EmulatorFault,
  EmulatorFaults,
  faultAfter,
  faultBefore,
} from "./emulatorFaults.js";
import { type Answer, cancelOrder, placeOrder, positionRisk, queryOrder } from "./emulatorOrders.js";
import { DEFAULT_SYMBOLS, type EmulatorSymbol, exchangeInfoBody } from "./emulatorSymbols.js";

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
}

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

const MAX_BODY = 64 * 1024;
const DEFAULT_HOLD_MS = 30_000;
const DEFAULT_MARKS: Readonly<Record<string, string>> = { BTCUSDT: "65000", ETHUSDT: "3000" };

interface Route {
  readonly endpoint: EmulatorEndpoint;
  readonly signed: boolean;
  handle(ctx: { account: string; params: Params; now: number }): Answer & { placed?: EmulatorOrder };
}

/**
 * Starts a Binance USDⓈ-M futures emulator: a real HTTP server (node:http)
 * that verifies requests exactly as Binance does (API key header, HMAC-SHA256
 * over totalParams, timestamp vs server time and `recvWindow`), enforces the
 * symbol filters, keeps orders and positions per account, and plays injected
 * faults. Endpoints: `GET /fapi/v1/ping`, `GET /fapi/v1/time`,
 * `GET /fapi/v1/exchangeInfo`, `POST|GET|DELETE /fapi/v1/order`,
 * `GET /fapi/v2/positionRisk`, `GET /fapi/v3/positionRisk`. Parameters of a
 * POST/DELETE may come in the query string, a form body, or both.
 * A key given `readOnly` may read but not trade (-2015 on POST / DELETE
 * order), as a Binance key with only "Enable Reading" set.
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

  const routes = new Map<string, Route>([
    ["GET /fapi/v1/ping", publicRoute("time", () => ({}))],
    ["GET /fapi/v1/time", publicRoute("time", () => ({ serverTime: serverTime() }))],
    [
      "GET /fapi/v1/exchangeInfo",
      publicRoute("exchangeInfo", () => exchangeInfoBody(book.symbols(), serverTime())),
    ],
    ["POST /fapi/v1/order", signedRoute("order", (c) => placeOrder(book, c.account, c.params, c.now))],
    ["GET /fapi/v1/order", signedRoute("queryOrder", (c) => queryOrder(book, c.account, c.params))],
    [
      "DELETE /fapi/v1/order",
      signedRoute("cancelOrder", (c) => cancelOrder(book, c.account, c.params, c.now)),
    ],
    [
      "GET /fapi/v2/positionRisk",
      signedRoute("positionRisk", (c) => positionRisk(book, c.account, c.params, 2)),
    ],
    [
      "GET /fapi/v3/positionRisk",
      signedRoute("positionRisk", (c) => positionRisk(book, c.account, c.params, 3)),
    ],
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? "" : rawUrl.slice(q + 1);
    const at = serverTime();
    const record = (r: Omit<EmulatorRequestRecord, "at" | "method" | "path">): void => {
      log.push({ at, method, path, ...r });
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
        trade: route.endpoint === "order" || route.endpoint === "cancelOrder",
        serverTime: serverTime(),
      });
      if (isBinanceError(verified)) {
        record({ endpoint: route.endpoint, status: verified.status, code: verified.body.code });
        return send(res, verified);
      }
      account = verified.account;
      params = verified.params;
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

function publicRoute(endpoint: EmulatorEndpoint, body: () => unknown): Route {
  return { endpoint, signed: false, handle: () => ({ status: 200, body: body() }) };
}

function signedRoute(endpoint: EmulatorEndpoint, handle: Route["handle"]): Route {
  return { endpoint, signed: true, handle };
}

function codeOf(a: Answer): { code?: number } {
  const body = a.body as { code?: unknown } | undefined;
  return typeof body === "object" && body !== null && typeof body.code === "number"
    ? { code: body.code }
    : {};
}

function send(res: ServerResponse, a: Answer): void {
  if (res.destroyed || res.headersSent) return;
  const text = typeof a.body === "string" ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, {
    "content-type": typeof a.body === "string" ? "text/html" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** The request body as text, or undefined past {@link MAX_BODY}. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

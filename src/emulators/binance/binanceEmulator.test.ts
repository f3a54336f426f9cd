import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import ccxt from "ccxt";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BinanceEmulator,
  type BinanceEmulatorOptions,
  startBinanceEmulator,
} from "./binanceEmulator.js";
import { DEFAULT_SYMBOLS } from "./emulatorSymbols.js";

/** Binance's documented USDⓈ-M example (REST "SIGNED endpoint examples"). */
const DOC = {
  apiKey: "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
  secret: "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
  query:
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943",
  signature: "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9",
  timestamp: 1591702613943,
} as const;

const KEY = "A".repeat(32) + "b1".repeat(16);
const SECRET = "emu-secret-0f3c9a";
const T0 = 1_700_000_000_000;

let emu: BinanceEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(over: Partial<BinanceEmulatorOptions> = {}): Promise<BinanceEmulator> {
  emu = await startBinanceEmulator({
    accounts: [{ name: "acct", apiKey: KEY, secret: SECRET }],
    clock: () => T0,
    markPrices: { BTCUSDT: "65000", ETHUSDT: "3000" },
    ...over,
  });
  return emu;
}

const hmac = (secret: string, text: string): string =>
  createHmac("sha256", secret).update(text).digest("hex");

interface Raw {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: raw JSON answers, read field by field in assertions
  readonly body: any;
}

/** A raw HTTP request, as any client would send it. */
async function raw(
  e: BinanceEmulator,
  r: {
    method?: string;
    path: string;
    query?: string;
    body?: string;
    apiKey?: string | null;
    contentType?: string;
  },
): Promise<Raw> {
  const headers: Record<string, string> = {};
  if (r.apiKey !== null) headers["X-MBX-APIKEY"] = r.apiKey ?? KEY;
  if (r.body !== undefined) headers["Content-Type"] = r.contentType ?? "application/x-www-form-urlencoded";
  const res = await fetch(`${e.url}${r.path}${r.query ? `?${r.query}` : ""}`, {
    method: r.method ?? "GET",
    headers,
    ...(r.body === undefined ? {} : { body: r.body }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}

/** Params + timestamp, signed with `secret` (default the account's). */
function signed(params: string, opts: { secret?: string; timestamp?: number } = {}): string {
  const q = `${params}${params ? "&" : ""}timestamp=${opts.timestamp ?? T0}`;
  return `${q}&signature=${hmac(opts.secret ?? SECRET, q)}`;
}

const order = (e: BinanceEmulator, params: string, opts: { secret?: string; timestamp?: number } = {}) =>
  raw(e, { method: "POST", path: "/fapi/v1/order", body: signed(params, opts) });

const MARKET = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010";
const limit = (price: string, id?: string, extra = "") =>
  `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=${price}${id ? `&newClientOrderId=${id}` : ""}${extra}`;

describe("signature verification agrees with Binance's documented example", () => {
  it("the documented query, signature and key are accepted (query string, or form body)", async () => {
    const e = await start({
      accounts: [{ name: "doc", apiKey: DOC.apiKey, secret: DOC.secret }],
      clock: () => DOC.timestamp + 100,
      markPrices: { BTCUSDT: "9500" },
    });
    expect(DOC.apiKey).toHaveLength(64);
    expect(hmac(DOC.secret, DOC.query)).toBe(DOC.signature);
    const q = await raw(e, {
      method: "POST",
      path: "/fapi/v1/order",
      query: `${DOC.query}&signature=${DOC.signature}`,
      apiKey: DOC.apiKey,
    });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    expect(q.body).toMatchObject({
      symbol: "BTCUSDT",
      status: "NEW",
      side: "BUY",
      type: "LIMIT",
      origQty: "1.000",
    });
    const b = await raw(e, {
      method: "POST",
      path: "/fapi/v1/order",
      body: `${DOC.query}&signature=${DOC.signature.toUpperCase()}`,
      apiKey: DOC.apiKey,
    });
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    expect(e.state.countOrders(q.body.clientOrderId)).toBe(1);
  });

  it("mixed query string and body: totalParams is the query string concatenated with the body (no '&')", async () => {
    const e = await start({
      accounts: [{ name: "doc", apiKey: DOC.apiKey, secret: DOC.secret }],
      clock: () => DOC.timestamp + 100,
      markPrices: { BTCUSDT: "9500" },
    });
    const query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
    const body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943";
    const sig = hmac(DOC.secret, query + body);
    const ok = await raw(e, {
      method: "POST",
      path: "/fapi/v1/order",
      query,
      body: `${body}&signature=${sig}`,
      apiKey: DOC.apiKey,
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const withAmp = hmac(DOC.secret, `${query}&${body}`);
    const bad = await raw(e, {
      method: "POST",
      path: "/fapi/v1/order",
      query,
      body: `${body}&signature=${withAmp}`,
      apiKey: DOC.apiKey,
    });
    expect(bad.body).toEqual({ code: -1022, msg: "Signature for this request is not valid." });
  });

  it("agrees with ccxt binanceusdm's signing (orders, lookups, positionRisk v2/v3), offline", async () => {
    const e = await start({ clock: () => T0 + 50 });
    const exchange = new ccxt.binanceusdm({
      apiKey: KEY,
      secret: SECRET,
      options: { adjustForTimeDifference: false },
    });
    exchange.nonce = () => T0;
    const send = async (path: string, api: string, method: string, params: Record<string, unknown>) => {
      const s = exchange.sign(path, api, method, { ...params });
      const url = new URL(String(s.url));
      return raw(e, {
        method,
        path: url.pathname,
        query: url.search.slice(1),
        ...(s.body === undefined ? {} : { body: String(s.body) }),
        apiKey: s.headers["X-MBX-APIKEY"],
      });
    };
    const placed = await send("order", "fapiPrivate", "POST", {
      symbol: "BTCUSDT",
      side: "BUY",
      type: "LIMIT",
      quantity: "0.010",
      price: "60000.5",
      timeInForce: "GTC",
      newClientOrderId: "ig:plan/1",
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body).toMatchObject({ clientOrderId: "ig:plan/1", status: "NEW" });
    const market = await send("order", "fapiPrivate", "POST", {
      symbol: "ETHUSDT",
      side: "SELL",
      type: "MARKET",
      quantity: "2.5",
      newClientOrderId: "ig-2",
      newOrderRespType: "RESULT",
    });
    expect(market.body).toMatchObject({ status: "FILLED", executedQty: "2.500", avgPrice: "3000.00000" });
    const got = await send("order", "fapiPrivate", "GET", {
      symbol: "BTCUSDT",
      origClientOrderId: "ig:plan/1",
    });
    expect(got.body).toMatchObject({ orderId: placed.body.orderId, clientOrderId: "ig:plan/1" });
    const v2 = await send("positionRisk", "fapiPrivateV2", "GET", {});
    expect(v2.body.find((p: { symbol: string }) => p.symbol === "ETHUSDT")).toMatchObject({
      positionAmt: "-2.500",
    });
    expect(v2.body).toHaveLength(DEFAULT_SYMBOLS.length);
    const v3 = await send("positionRisk", "fapiPrivateV3", "GET", { symbol: "ETHUSDT" });
    expect(v3.body).toEqual([expect.objectContaining({ symbol: "ETHUSDT", positionAmt: "-2.500" })]);
    // The same request with one byte changed is refused.
    const s = exchange.sign("order", "fapiPrivate", "GET", {
      symbol: "BTCUSDT",
      origClientOrderId: "ig:plan/1",
    });
    const tampered = String(s.url).split("?")[1]!.replace("BTCUSDT", "ETHUSDT");
    expect((await raw(e, { path: "/fapi/v1/order", query: tampered })).body.code).toBe(-1022);
  });
});

describe("authentication and timing, as Binance checks them", () => {
  it.each([
    ["no X-MBX-APIKEY", null, -2014, 401],
    ["a malformed key", "short-key", -2014, 401],
    ["an unknown well-formed key", "Z".repeat(64), -2015, 401],
  ])("%s → %i", async (_n, apiKey, code, status) => {
    const e = await start();
    const r = await raw(e, { path: "/fapi/v2/positionRisk", query: signed(""), apiKey });
    expect(r.status).toBe(status);
    expect(r.body.code).toBe(code);
  });

  it("a read-only key reads (GET) but may not trade: POST and DELETE order are -2015", async () => {
    const RO_KEY = "R".repeat(32) + "o1".repeat(16);
    const RO_SECRET = "emu-read-only-secret";
    const e = await start({
      accounts: [
        { name: "acct", apiKey: KEY, secret: SECRET },
        { name: "acct", apiKey: RO_KEY, secret: RO_SECRET, readOnly: true },
      ],
    });
    const read = signed("symbol=BTCUSDT&origClientOrderId=x", { secret: RO_SECRET });
    expect((await raw(e, { path: "/fapi/v1/order", query: read, apiKey: RO_KEY })).body.code).toBe(-2013);
    expect(
      (
        await raw(e, {
          path: "/fapi/v2/positionRisk",
          query: signed("", { secret: RO_SECRET }),
          apiKey: RO_KEY,
        })
      ).status,
    ).toBe(200);
    for (const method of ["DELETE", "POST"]) {
      const r = await raw(e, { method, path: "/fapi/v1/order", query: read, apiKey: RO_KEY });
      expect([r.status, r.body.code]).toEqual([401, -2015]);
    }
    const order = signed("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01", { secret: RO_SECRET });
    expect(
      (await raw(e, { method: "POST", path: "/fapi/v1/order", body: order, apiKey: RO_KEY })).body.code,
    ).toBe(-2015);
    expect(e.state.orders()).toHaveLength(0);
  });

  it("a bad, missing or misplaced signature", async () => {
    const e = await start();
    const path = "/fapi/v2/positionRisk";
    expect((await raw(e, { path, query: signed("", { secret: "other" }) })).body.code).toBe(-1022);
    expect((await raw(e, { path, query: `timestamp=${T0}` })).body).toEqual({
      code: -1102,
      msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    });
    const q = `timestamp=${T0}`;
    const first = `signature=${hmac(SECRET, q)}&${q}`;
    expect((await raw(e, { path, query: first })).body.code).toBe(-1022);
    // A body that is not a form is not read: its parameters (and signature) do not count.
    const r = await raw(e, {
      method: "POST",
      path: "/fapi/v1/order",
      body: signed(MARKET),
      contentType: "application/json",
    });
    expect(r.body.code).toBe(-1102);
    expect(e.state.orders()).toHaveLength(0);
  });

  it("timestamp vs server time: recvWindow behind, 1000 ms ahead; injected clock skew moves the server clock", async () => {
    const e = await start();
    const path = "/fapi/v2/positionRisk";
    const at = async (timestamp: number, recv = "") =>
      (await raw(e, { path, query: signed(recv, { timestamp }) })).body;
    expect(Array.isArray(await at(T0 - 5000))).toBe(true);
    expect((await at(T0 - 5001)).code).toBe(-1021);
    expect(Array.isArray(await at(T0 - 9000, "recvWindow=10000"))).toBe(true);
    expect(Array.isArray(await at(T0 + 999))).toBe(true);
    expect(await at(T0 + 1000)).toEqual({
      code: -1021,
      msg: "Timestamp for this request was 1000ms ahead of the server's time.",
    });
    expect((await at(T0, "recvWindow=60001")).code).toBe(-1131);
    e.faults.setClockSkew(-3000);
    expect((await raw(e, { path: "/fapi/v1/time" })).body).toEqual({ serverTime: T0 - 3000 });
    expect((await at(T0)).code).toBe(-1021);
    e.faults.setClockSkew(6000);
    expect((await at(T0)).code).toBe(-1021);
    expect(Array.isArray(await at(T0 + 6000))).toBe(true);
  });
});

describe("orders", () => {
  it("MARKET fills at the mark (RESULT), ACK answers before matching; the order and position are kept", async () => {
    const e = await start();
    const r = await order(e, `${MARKET}&newOrderRespType=RESULT&newClientOrderId=m-1`);
    expect(r.body).toMatchObject({
      status: "FILLED",
      executedQty: "0.010",
      avgPrice: "65000.00000",
      clientOrderId: "m-1",
      reduceOnly: false,
    });
    expect(typeof r.body.orderId).toBe("number");
    const ack = await order(e, `${MARKET}&newClientOrderId=m-2`);
    expect(ack.body).toMatchObject({ status: "NEW", executedQty: "0.000" });
    expect(e.state.orders({ clientOrderId: "m-2" })[0]).toMatchObject({
      status: "FILLED",
      executedQty: "0.01",
    });
    expect(e.state.position("acct", "BTCUSDT")).toBe("0.02");
  });

  it("LIMIT: rests unless marketable (then fills at the mark, its price or better); resting orders fill when the mark reaches them", async () => {
    const e = await start();
    expect((await order(e, `${limit("64000.0", "l-rest")}&newOrderRespType=RESULT`)).body.status).toBe("NEW");
    const take = await order(e, `${limit("66000.0", "l-take")}&newOrderRespType=RESULT`);
    expect(take.body).toMatchObject({ status: "FILLED", avgPrice: "65000.00000" });
    e.state.setMarkPrice("BTCUSDT", "63999.9");
    expect(e.state.orders({ clientOrderId: "l-rest" })[0]).toMatchObject({
      status: "FILLED",
      avgPrice: "64000",
    });
    expect(e.state.position("acct", "BTCUSDT")).toBe("0.02");
    const ioc = await order(e, limit("60000.0", "l-ioc").replace("GTC", "IOC"));
    expect(e.state.orders({ clientOrderId: "l-ioc" })[0]?.status).toBe("EXPIRED");
    expect(ioc.status).toBe(200);
  });

  it("-4116 only while an order with the id is open; a reused id after fill or cancel is accepted (truthfully)", async () => {
    const e = await start();
    expect((await order(e, limit("64000.0", "dup-1"))).status).toBe(200);
    expect((await order(e, limit("64000.0", "dup-1"))).body).toEqual({
      code: -4116,
      msg: "ClientOrderId is duplicated.",
    });
    expect(e.state.countOrders("dup-1")).toBe(1);
    expect(e.state.cancel("acct", "BTCUSDT", "dup-1")).toBe(true);
    expect((await order(e, limit("64000.0", "dup-1"))).status).toBe(200);
    expect(e.state.countOrders("dup-1")).toBe(2);
    expect((await order(e, `${MARKET}&newClientOrderId=dup-2`)).status).toBe(200);
    expect((await order(e, `${MARKET}&newClientOrderId=dup-2`)).status).toBe(200);
    expect(e.state.countOrders("dup-2")).toBe(2);
  });

  it.each<[string, number, string]>([
    ["bad client order id", -4015, `${MARKET}&newClientOrderId=has%20space`],
    ["client order id of 37 chars", -4015, `${MARKET}&newClientOrderId=${"a".repeat(37)}`],
    ["price on MARKET", -1106, `${MARKET}&price=65000`],
    ["no quantity", -1102, "symbol=BTCUSDT&side=BUY&type=MARKET"],
    ["quantity in exponent form", -1102, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1e-2"],
    ["bad side", -1117, "symbol=BTCUSDT&side=LONG&type=MARKET&quantity=0.01"],
    ["unsupported type", -1116, "symbol=BTCUSDT&side=BUY&type=STOP&quantity=0.01"],
    ["LIMIT without timeInForce", -1102, "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price=64000"],
    ["unknown symbol", -1121, "symbol=NOPEUSDT&side=BUY&type=MARKET&quantity=0.01"],
    ["hedge-mode positionSide", -4061, `${MARKET}&positionSide=LONG`],
    ["repeated parameter", -1101, `${MARKET}&side=SELL`],
    ["too precise quantity", -1111, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.0101"],
    ["zero quantity", -4003, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0"],
    ["below LOT_SIZE min", -4003, limit("64000.0").replace("0.010", "0.000")],
    ["above MARKET_LOT_SIZE max", -4005, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=121"],
    ["LIMIT above LOT_SIZE max", -4005, limit("64000.0").replace("quantity=0.010", "quantity=1001")],
    ["price below min", -4013, limit("100.0")],
    ["price above max", -4016, limit("900000.0")],
    ["price off the tick", -4014, limit("64000.05")],
    ["too precise price", -1111, limit("64000.001")],
    ["notional below MIN_NOTIONAL", -4164, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001"],
    ["reduce-only with no position", -2022, `${MARKET}&reduceOnly=true`],
    ["reduceOnly not a boolean", -1130, `${MARKET}&reduceOnly=1`],
  ])("%s → %i, nothing placed", async (_n, code, params) => {
    const e = await start();
    const r = await order(e, params);
    expect(r.body.code, JSON.stringify(r.body)).toBe(code);
    expect(r.status).toBe(400);
    expect(e.state.orders()).toHaveLength(0);
  });

  it("step and tick rules (LOT_SIZE step, PRICE_FILTER tick) with a coarser symbol", async () => {
    const e = await start({
      symbols: [
        {
          ...DEFAULT_SYMBOLS[0]!,
          lotSize: { minQty: "0.01", maxQty: "100", stepSize: "0.01" },
          priceFilter: { minPrice: "0.5", maxPrice: "0", tickSize: "0.5" },
        },
      ],
    });
    expect((await order(e, limit("64000.0").replace("0.010", "0.015"))).body.code).toBe(-4023);
    expect((await order(e, limit("64000.2"))).body.code).toBe(-4014);
    expect((await order(e, limit("9999999.5"))).status).toBe(200);
    expect(e.state.orders()).toHaveLength(1);
  });

  it("reduce-only: -2022 when it would open, grow or flip; MIN_NOTIONAL does not apply; a resting one that would flip expires", async () => {
    const e = await start();
    e.state.setPosition("acct", "BTCUSDT", "0.002");
    expect(
      (await order(e, "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&reduceOnly=true")).body.code,
    ).toBe(-2022);
    expect(
      (await order(e, "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.003&reduceOnly=true")).body.code,
    ).toBe(-2022);
    const ok = await order(
      e,
      "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&reduceOnly=true&newOrderRespType=RESULT",
    );
    expect(ok.body).toMatchObject({ status: "FILLED", reduceOnly: true });
    expect(e.state.position("acct", "BTCUSDT")).toBe("0.001");
    await order(
      e,
      "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&price=66000.0&quantity=0.001&reduceOnly=true&newClientOrderId=ro-rest",
    );
    e.state.setPosition("acct", "BTCUSDT", "0");
    e.state.setMarkPrice("BTCUSDT", "66000.0");
    expect(e.state.orders({ clientOrderId: "ro-rest" })[0]?.status).toBe("EXPIRED");
    expect(e.state.position("acct", "BTCUSDT")).toBe("0");
  });

  it("lookup by origClientOrderId (the latest) or orderId; -2013 when none; cancel -2011 when not open", async () => {
    const e = await start();
    const placed = await order(e, limit("64000.0", "q-1"));
    const byId = await raw(e, {
      path: "/fapi/v1/order",
      query: signed("symbol=BTCUSDT&origClientOrderId=q-1"),
    });
    expect(byId.body).toMatchObject({ orderId: placed.body.orderId, status: "NEW", executedQty: "0.000" });
    const byOrderId = await raw(e, {
      path: "/fapi/v1/order",
      query: signed(`symbol=BTCUSDT&orderId=${placed.body.orderId}`),
    });
    expect(byOrderId.body.clientOrderId).toBe("q-1");
    const none = await raw(e, {
      path: "/fapi/v1/order",
      query: signed("symbol=BTCUSDT&origClientOrderId=q-2"),
    });
    expect(none).toEqual({ status: 400, body: { code: -2013, msg: "Order does not exist." } });
    expect((await raw(e, { path: "/fapi/v1/order", query: signed("symbol=BTCUSDT") })).body.code).toBe(-1102);
    const cancel = await raw(e, {
      method: "DELETE",
      path: "/fapi/v1/order",
      query: signed("symbol=BTCUSDT&origClientOrderId=q-1"),
    });
    expect(cancel.body.status).toBe("CANCELED");
    const again = await raw(e, {
      method: "DELETE",
      path: "/fapi/v1/order",
      query: signed("symbol=BTCUSDT&origClientOrderId=q-1"),
    });
    expect(again.body.code).toBe(-2011);
    await order(e, limit("64000.0", "q-1"));
    const latest = await raw(e, {
      path: "/fapi/v1/order",
      query: signed("symbol=BTCUSDT&origClientOrderId=q-1"),
    });
    expect(latest.body.status).toBe("NEW");
    expect(latest.body.orderId).not.toBe(placed.body.orderId);
  });

  it("exchangeInfo lists Binance's filters", async () => {
    const e = await start();
    const info = (await raw(e, { path: "/fapi/v1/exchangeInfo", apiKey: null })).body;
    const btc = info.symbols.find((s: { symbol: string }) => s.symbol === "BTCUSDT");
    expect(btc).toMatchObject({
      status: "TRADING",
      contractType: "PERPETUAL",
      quantityPrecision: 3,
      pricePrecision: 2,
    });
    expect(btc.filters).toEqual(
      expect.arrayContaining([
        { filterType: "PRICE_FILTER", minPrice: "261.10", maxPrice: "809484", tickSize: "0.10" },
        { filterType: "LOT_SIZE", minQty: "0.001", maxQty: "1000", stepSize: "0.001" },
        { filterType: "MARKET_LOT_SIZE", minQty: "0.001", maxQty: "120", stepSize: "0.001" },
        { filterType: "MIN_NOTIONAL", notional: "100" },
      ]),
    );
    expect(info.serverTime).toBe(T0);
  });
});

describe("faults", () => {
  it("http_error before / after processing; counted faults; '*' endpoints", async () => {
    const e = await start();
    e.faults.inject("order", { kind: "http_error", status: 502, process: false }, { times: 2 });
    expect((await order(e, `${MARKET}&newClientOrderId=h-1`)).status).toBe(502);
    expect((await order(e, `${MARKET}&newClientOrderId=h-1`)).status).toBe(502);
    expect(e.state.countOrders("h-1")).toBe(0);
    e.faults.inject("order", { kind: "http_error", process: true });
    const after = await order(e, `${MARKET}&newClientOrderId=h-2`);
    expect(after).toEqual({ status: 503, body: "Service Unavailable." });
    expect(e.state.countOrders("h-2")).toBe(1);
    expect(e.faults.pending()).toBe(0);
    e.faults.inject("*", { kind: "http_error", status: 500, process: false });
    expect((await raw(e, { path: "/fapi/v1/time" })).status).toBe(500);
    expect((await raw(e, { path: "/fapi/v1/time" })).status).toBe(200);
    expect(e.requests("order").map((r) => r.status)).toEqual([502, 502, 503]);
  });

  it("status_unknown -1006/-1007 with or without processing; throttle -1008 (reduce-only exempt); rate_limit -1003", async () => {
    const e = await start();
    e.faults.inject("order", { kind: "status_unknown", code: -1007, process: true });
    const r1 = await order(e, `${MARKET}&newClientOrderId=u-1`);
    expect(r1.status).toBe(408);
    expect(r1.body.code).toBe(-1007);
    expect(e.state.countOrders("u-1")).toBe(1);
    e.faults.inject("order", { kind: "status_unknown", process: false });
    expect((await order(e, `${MARKET}&newClientOrderId=u-2`)).body.code).toBe(-1006);
    expect(e.state.countOrders("u-2")).toBe(0);
    e.faults.inject("order", { kind: "throttle" });
    expect(
      (
        await order(
          e,
          "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&reduceOnly=true&newClientOrderId=u-3",
        )
      ).status,
    ).toBe(200);
    const t = await order(e, `${MARKET}&newClientOrderId=u-4`);
    expect(t).toMatchObject({ status: 503, body: { code: -1008 } });
    expect(e.state.countOrders("u-4")).toBe(0);
    e.faults.inject("order", { kind: "rate_limit" });
    expect(await order(e, `${MARKET}&newClientOrderId=u-5`)).toMatchObject({
      status: 429,
      body: { code: -1003 },
    });
    expect(e.state.countOrders("u-5")).toBe(0);
  });

  it("drop_response (processed or not), timeout_after_accept, latency", async () => {
    const e = await start();
    e.faults.inject("order", { kind: "drop_response" });
    await expect(order(e, `${MARKET}&newClientOrderId=d-1`)).rejects.toThrow();
    expect(e.state.countOrders("d-1")).toBe(1);
    e.faults.inject("order", { kind: "drop_response", process: false });
    await expect(order(e, `${MARKET}&newClientOrderId=d-2`)).rejects.toThrow();
    expect(e.state.countOrders("d-2")).toBe(0);

    e.faults.inject("order", { kind: "timeout_after_accept", holdMs: 10_000 });
    const t0 = Date.now();
    const held = fetch(`${e.url}/fapi/v1/order`, {
      method: "POST",
      headers: { "X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded" },
      body: signed(`${MARKET}&newClientOrderId=d-3`),
      signal: AbortSignal.timeout(300),
    });
    await expect(held).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.state.countOrders("d-3")).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(e.requests("order").at(-1)).toMatchObject({ status: "abandoned", fault: "timeout_after_accept" });

    e.faults.inject("order", { kind: "timeout_after_accept", holdMs: 100 });
    expect((await order(e, `${MARKET}&newClientOrderId=d-4`)).status).toBe(200);

    e.faults.inject("time", { kind: "latency", ms: 150 });
    const l0 = Date.now();
    expect((await raw(e, { path: "/fapi/v1/time" })).status).toBe(200);
    expect(Date.now() - l0).toBeGreaterThanOrEqual(140);
  });

  it("close() releases held answers", async () => {
    const e = await start();
    e.faults.inject("order", { kind: "timeout_after_accept", holdMs: 60_000 });
    const held = order(e, `${MARKET}&newClientOrderId=c-1`).catch(() => "failed");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await e.close();
    expect(await held).toBe("failed");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("secrets", () => {
  it("canary: the secret never appears in answers, the request log, or util.inspect", async () => {
    const canary = "CANARY-emulator-secret-77ab";
    const e = await start({ accounts: [{ name: "acct", apiKey: KEY, secret: canary }] });
    const bodies: unknown[] = [];
    bodies.push((await order(e, `${MARKET}&newClientOrderId=s-1`, { secret: canary })).body);
    bodies.push((await order(e, MARKET, { secret: "wrong" })).body);
    bodies.push(
      (await raw(e, { path: "/fapi/v2/positionRisk", query: signed("", { secret: canary }) })).body,
    );
    const texts = [
      JSON.stringify(bodies),
      JSON.stringify(e.requests()),
      inspect(e, { depth: 10 }),
      inspect(e.state.orders()),
    ];
    for (const t of texts) {
      expect(t).not.toContain(canary);
      expect(t).not.toContain(KEY);
    }
  });
});

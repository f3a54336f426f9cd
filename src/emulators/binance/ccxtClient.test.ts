import ccxt, { type binanceusdm } from "ccxt";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BinanceEmulator, startBinanceEmulator } from "./binanceEmulator.js";

/**
 * The emulator driven by ccxt `binanceusdm` (the real client, over HTTP):
 * every ccxt call a new user would try first works as against Binance.
 */
const KEY = "C".repeat(32) + "d2".repeat(16);
const SECRET = "ccxt-emulator-secret-7f1e";
const BTC = "BTC/USDT:USDT";

let emu: BinanceEmulator;
let x: binanceusdm;

beforeEach(async () => {
  emu = await startBinanceEmulator({ accounts: [{ name: "acct", apiKey: KEY, secret: SECRET }] });
  x = new ccxt.binanceusdm({
    apiKey: KEY,
    secret: SECRET,
    // No sapi (currencies) on the emulator: ccxt then takes currencies from the markets.
    options: { fetchCurrencies: false, warnOnFetchOpenOrdersWithoutSymbol: false },
  });
  const api = x.urls.api as Record<string, string>;
  for (const k of Object.keys(api))
    if (k.startsWith("fapi")) api[k] = api[k]!.replace("https://fapi.binance.com", emu.url);
  await x.loadMarkets();
});
afterEach(async () => {
  await emu.close();
});

describe("ccxt binanceusdm against the emulator", () => {
  it("a GTC limit below the mark rests; fetchOpenOrders / fetchOpenOrder / fetchOrder see it open", async () => {
    const o = await x.createOrder(BTC, "limit", "buy", 0.01, 60000, { newClientOrderId: "rest-1" });
    expect(o.status).toBe("open");
    const open = await x.fetchOpenOrders(BTC);
    expect(open.map((r) => r.id)).toEqual([o.id]);
    expect(open[0]).toMatchObject({
      clientOrderId: "rest-1",
      price: 60000,
      amount: 0.01,
      filled: 0,
      status: "open",
    });
    expect((await x.fetchOpenOrders()).map((r) => r.id)).toEqual([o.id]);
    expect((await x.fetchOpenOrder(String(o.id), BTC)).status).toBe("open");
    expect((await x.fetchOrder(String(o.id), BTC)).status).toBe("open");
    expect(emu.requests().filter((r) => r.status === 404)).toEqual([]);
  });

  it("cancelOrder cancels a resting order; cancelling it again is Binance's -2011 (ccxt OrderNotFound)", async () => {
    const o = await x.createOrder(BTC, "limit", "buy", 0.01, 60000);
    expect((await x.cancelOrder(String(o.id), BTC)).status).toBe("canceled");
    expect(await x.fetchOpenOrders(BTC)).toEqual([]);
    expect((await x.fetchOrder(String(o.id), BTC)).status).toBe("canceled");
    await expect(x.cancelOrder(String(o.id), BTC)).rejects.toThrow(ccxt.OrderNotFound);
    expect(emu.requests("cancelOrder").at(-1)).toMatchObject({ status: 400, code: -2011 });
    await expect(x.fetchOpenOrder(String(o.id), BTC)).rejects.toThrow(ccxt.OrderNotFound);
  });

  it("cancelAllOrders cancels every open order of the symbol and only those", async () => {
    const a = await x.createOrder(BTC, "limit", "buy", 0.01, 60000);
    const b = await x.createOrder(BTC, "limit", "sell", 0.01, 70000);
    const eth = await x.createOrder("ETH/USDT:USDT", "limit", "buy", 0.1, 2500);
    await x.cancelAllOrders(BTC);
    expect(await x.fetchOpenOrders(BTC)).toEqual([]);
    expect((await x.fetchOrder(String(a.id), BTC)).status).toBe("canceled");
    expect((await x.fetchOrder(String(b.id), BTC)).status).toBe("canceled");
    expect((await x.fetchOpenOrders()).map((o) => o.id)).toEqual([eth.id]);
  });

  it("a resting order fills when the mark reaches it: position, trade, balance", async () => {
    const o = await x.createOrder(BTC, "limit", "buy", 0.01, 64000);
    expect(o.status).toBe("open");
    emu.state.setMarkPrice("BTCUSDT", "63990");
    expect(await x.fetchOrder(String(o.id), BTC)).toMatchObject({
      status: "closed",
      filled: 0.01,
      average: 64000,
    });
    const trades = await x.fetchMyTrades(BTC);
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({
      order: o.id,
      side: "buy",
      price: 64000,
      amount: 0.01,
      takerOrMaker: "maker",
    });
    const positions = await x.fetchPositions([BTC]);
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: BTC, side: "long", contracts: 0.01, entryPrice: 64000 });
    const balance = await x.fetchBalance();
    expect(balance.USDT?.total).toBeCloseTo(10000 + (63990 - 64000) * 0.01, 6);
  });

  it("fetchTicker, fetchMarkPrice and fetchOrderBook read the mark and the book the operator set", async () => {
    emu.state.setMarkPrice("BTCUSDT", "65100");
    expect((await x.fetchTicker(BTC)).last).toBe(65100);
    expect((await x.fetchMarkPrice(BTC)).markPrice).toBe(65100);
    emu.state.setDepth("BTCUSDT", {
      bids: [
        { price: "65090", qty: "0.5" },
        { price: "65095", qty: "0.2" },
      ],
      asks: [{ price: "65110", qty: "0.3" }],
    });
    const book = await x.fetchOrderBook(BTC, 5);
    expect(book.bids).toEqual([
      [65095, 0.2],
      [65090, 0.5],
    ]);
    expect(book.asks).toEqual([[65110, 0.3]]);
  });

  it("against a book, a crossing limit fills partially and rests the rest; a later book fills it", async () => {
    emu.state.setDepth("BTCUSDT", {
      bids: [],
      asks: [
        { price: "65000", qty: "0.004" },
        { price: "65010", qty: "0.010" },
      ],
    });
    const o = await x.createOrder(BTC, "limit", "buy", 0.01, 65005, { newOrderRespType: "RESULT" });
    expect(o).toMatchObject({ status: "open", filled: 0.004, remaining: 0.006 });
    expect(o.info.status).toBe("PARTIALLY_FILLED");
    expect((await x.fetchOpenOrders(BTC)).map((r) => r.id)).toEqual([o.id]);
    expect((await x.fetchOrderBook(BTC)).asks).toEqual([[65010, 0.01]]);
    emu.state.setDepth("BTCUSDT", { bids: [], asks: [{ price: "65004", qty: "1" }] });
    expect(await x.fetchOrder(String(o.id), BTC)).toMatchObject({ status: "closed", filled: 0.01 });
    const trades = await x.fetchMyTrades(BTC);
    expect(trades.map((t) => [t.price, t.amount, t.takerOrMaker])).toEqual([
      [65000, 0.004, "taker"],
      [65005, 0.006, "maker"],
    ]);
    expect((await x.fetchOrderBook(BTC)).asks).toEqual([[65004, 0.994]]);
  });

  it("countdownCancelAll: a real timer cancels the symbol's open orders; 0 disarms", async () => {
    const kept = await x.createOrder(BTC, "limit", "buy", 0.01, 60000);
    await x.fapiPrivatePostCountdownCancelAll({ symbol: "BTCUSDT", countdownTime: 60_000 });
    expect(emu.state.countdownArmed("acct", "BTCUSDT")).toBe(true);
    await x.fapiPrivatePostCountdownCancelAll({ symbol: "BTCUSDT", countdownTime: 0 });
    expect(emu.state.countdownArmed("acct", "BTCUSDT")).toBe(false);
    const eth = await x.createOrder("ETH/USDT:USDT", "limit", "buy", 0.1, 2500);
    const answer = await x.fapiPrivatePostCountdownCancelAll({ symbol: "BTCUSDT", countdownTime: 200 });
    expect(answer).toEqual({ symbol: "BTCUSDT", countdownTime: "200" });
    await vi.waitFor(
      async () => {
        expect(await x.fetchOpenOrders(BTC)).toEqual([]);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect((await x.fetchOrder(String(kept.id), BTC)).status).toBe("canceled");
    expect((await x.fetchOpenOrders()).map((o) => o.id)).toEqual([eth.id]);
  });
});

import { Wallet } from "@ethersproject/wallet";
import { Chain, ClobClient, OrderType, Side } from "@polymarket/clob-client-v2";
import ccxt from "ccxt";
import { describe, expect, it } from "vitest";
import { startBinanceEmulator } from "./binance/binanceEmulator.js";
import { startPolymarketEmulator } from "./polymarket/polymarketEmulator.js";
import { requestLogLine } from "./requestLog.js";

/** Canary credentials: none of them, nor any signature, may reach the request log. */
const BINANCE_KEY = "CANARYkey".padEnd(64, "K");
const BINANCE_SECRET = "CANARY-binance-secret-do-not-log";
const PM = {
  key: "cafecafe-CANARY-4444-5555-key000000000",
  secret: Buffer.from("CANARY-polymarket-secret-do-not-log").toString("base64url"),
  passphrase: "CANARY-passphrase",
};
const wallet = new Wallet("0x6370fd033278c143179d81c5526140625662b8daa446c22ee2d73db3707e620c");

function expectClean(lines: readonly string[], canaries: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(3);
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(entry).sort()).toEqual(["method", "ms", "path", "status", "time"]);
    expect(String(entry.path)).not.toContain("?");
    for (const c of canaries) expect(line).not.toContain(c);
    expect(line).not.toMatch(/signature|[0-9a-f]{64}|POLY_/i);
  }
}

describe("request log: method, path, status, time — never keys, secrets or signatures", () => {
  it("cuts a query string off the path", () => {
    const line = requestLogLine({
      method: "GET",
      path: "/fapi/v1/order?symbol=BTCUSDT&signature=abc",
      status: 200,
      startedAt: 0,
      endedAt: 5,
    });
    expect(JSON.parse(line)).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      method: "GET",
      path: "/fapi/v1/order",
      status: 200,
      ms: 5,
    });
  });

  it("Binance, driven by ccxt (signed reads, orders, a rejected signature)", async () => {
    const lines: string[] = [];
    const emu = await startBinanceEmulator({
      accounts: [{ name: "a", apiKey: BINANCE_KEY, secret: BINANCE_SECRET }],
      requestLog: (l) => lines.push(l),
    });
    try {
      const x = new ccxt.binanceusdm({
        apiKey: BINANCE_KEY,
        secret: BINANCE_SECRET,
        options: { fetchCurrencies: false },
      });
      const api = x.urls.api as Record<string, string>;
      for (const k of Object.keys(api))
        if (k.startsWith("fapi")) api[k] = api[k]!.replace("https://fapi.binance.com", emu.url);
      const o = await x.createOrder("BTC/USDT:USDT", "limit", "buy", 0.01, 60000);
      await x.fetchOpenOrders("BTC/USDT:USDT");
      await x.cancelOrder(String(o.id), "BTC/USDT:USDT");
      await x.fetchBalance();
      const wrong = new ccxt.binanceusdm({
        apiKey: BINANCE_KEY,
        secret: "wrong",
        options: { fetchCurrencies: false },
      });
      wrong.urls.api = x.urls.api;
      wrong.markets = x.markets;
      wrong.markets_by_id = x.markets_by_id;
      await expect(wrong.fetchBalance()).rejects.toThrow();
    } finally {
      await emu.close();
    }
    expect(lines.some((l) => JSON.parse(l).status === 400)).toBe(true);
    expect(lines.map((l) => JSON.parse(l).path)).toEqual(
      expect.arrayContaining(["/fapi/v1/order", "/fapi/v3/account"]),
    );
    expectClean(lines, [BINANCE_KEY, BINANCE_SECRET, "CANARY"]);
  });

  it("Polymarket, driven by clob-client-v2 (L2 reads, an order, a cancel, a heartbeat)", async () => {
    const lines: string[] = [];
    const emu = await startPolymarketEmulator({
      apiKeys: [{ ...PM, address: wallet.address }],
      markets: { "3001": { tickSize: "0.01", minOrderSize: "1" } },
      requestLog: (l) => lines.push(l),
    });
    try {
      const client = new ClobClient({
        host: emu.url,
        chain: Chain.POLYGON,
        signer: wallet as never,
        creds: PM,
        throwOnError: true,
      });
      const r = await client.createAndPostOrder(
        { tokenID: "3001", price: 0.4, size: 5, side: Side.BUY },
        undefined,
        OrderType.GTC,
      );
      await client.getOpenOrders();
      await client.cancelOrder({ orderID: r.orderID });
      await client.postHeartbeat();
      const wrong = new ClobClient({
        host: emu.url,
        chain: Chain.POLYGON,
        signer: wallet as never,
        creds: { ...PM, passphrase: "CANARY-wrong" },
        throwOnError: true,
      });
      await expect(wrong.getOpenOrders()).rejects.toThrow();
    } finally {
      await emu.close();
    }
    expect(lines.some((l) => JSON.parse(l).status === 401)).toBe(true);
    expectClean(lines, [PM.key, PM.secret, PM.passphrase, "CANARY"]);
  });
});

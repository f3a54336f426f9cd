import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type BinanceEmulator, startBinanceEmulator } from "./binanceEmulator.js";

/**
 * The read / cancel endpoints over raw HTTP: Binance's parameter checks and
 * error codes, and the same signature, timestamp and key checks as the
 * order endpoints (read-only keys refused on the TRADE ones).
 */
const KEY = "F".repeat(32) + "a9".repeat(16);
const RO_KEY = "R".repeat(32) + "a9".repeat(16);
const SECRET = "endpoints-secret-1";
let emu: BinanceEmulator;
afterEach(async () => {
  await emu.close();
});

async function start(): Promise<BinanceEmulator> {
  emu = await startBinanceEmulator({
    accounts: [
      { name: "acct", apiKey: KEY, secret: SECRET, walletBalance: "2500.5" },
      { name: "ro", apiKey: RO_KEY, secret: SECRET, readOnly: true },
    ],
  });
  return emu;
}

const sign = (params: string, secret = SECRET, timestamp = Date.now()): string => {
  const q = `${params}${params ? "&" : ""}timestamp=${timestamp}`;
  return `${q}&signature=${createHmac("sha256", secret).update(q).digest("hex")}`;
};

// biome-ignore lint/suspicious/noExplicitAny: raw JSON answers, read field by field
type Json = any;

async function call(
  method: string,
  path: string,
  query: string,
  key: string | null = KEY,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${emu.url}${path}${query ? `?${query}` : ""}`, {
    method,
    headers: key === null ? {} : { "X-MBX-APIKEY": key },
  });
  return { status: res.status, body: await res.json() };
}

const limit = (price: string, id: string) =>
  `symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=${price}&newClientOrderId=${id}`;

describe("open orders, cancels, countdown: Binance's checks and codes", () => {
  it("openOrder / order by origClientOrderId; DELETE by origClientOrderId; -2011 and -2013 once it is not open", async () => {
    await start();
    expect((await call("POST", "/fapi/v1/order", sign(limit("60000.0", "oc-1")))).status).toBe(200);
    const open = await call("GET", "/fapi/v1/openOrder", sign("symbol=BTCUSDT&origClientOrderId=oc-1"));
    expect(open).toMatchObject({
      status: 200,
      body: { clientOrderId: "oc-1", status: "NEW", price: "60000.00" },
    });
    const del = await call("DELETE", "/fapi/v1/order", sign("symbol=BTCUSDT&origClientOrderId=oc-1"));
    expect(del.body).toMatchObject({ clientOrderId: "oc-1", status: "CANCELED" });
    expect(await call("DELETE", "/fapi/v1/order", sign("symbol=BTCUSDT&origClientOrderId=oc-1"))).toEqual({
      status: 400,
      body: { code: -2011, msg: "Unknown order sent." },
    });
    expect(await call("GET", "/fapi/v1/openOrder", sign("symbol=BTCUSDT&origClientOrderId=oc-1"))).toEqual({
      status: 400,
      body: { code: -2013, msg: "Order does not exist." },
    });
    expect(
      (await call("GET", "/fapi/v1/order", sign("symbol=BTCUSDT&origClientOrderId=oc-1"))).body.status,
    ).toBe("CANCELED");
  });

  it("mandatory and invalid parameters: -1102, -1121, -1130", async () => {
    await start();
    expect((await call("DELETE", "/fapi/v1/allOpenOrders", sign(""))).body.code).toBe(-1102);
    expect((await call("GET", "/fapi/v1/openOrders", sign("symbol=DOGEUSDT"))).body.code).toBe(-1121);
    expect((await call("POST", "/fapi/v1/countdownCancelAll", sign("symbol=BTCUSDT"))).body).toEqual({
      code: -1102,
      msg: "Mandatory parameter 'countdownTime' was not sent, was empty/null, or malformed.",
    });
    expect((await call("GET", "/fapi/v1/userTrades", sign(""))).body.code).toBe(-1102);
    expect((await call("GET", "/fapi/v1/userTrades", sign("symbol=BTCUSDT&limit=5000"))).body.code).toBe(
      -1130,
    );
    expect((await call("GET", "/fapi/v1/depth", "symbol=BTCUSDT&limit=7", null)).body.code).toBe(-1130);
    expect((await call("GET", "/fapi/v1/depth", "", null)).body.code).toBe(-1102);
    expect((await call("GET", "/fapi/v1/ticker/24hr", "symbol=NOPE", null)).body.code).toBe(-1121);
  });

  it("signed reads check the key, the signature and the timestamp; read-only keys may not cancel or arm the countdown", async () => {
    await start();
    for (const path of [
      "/fapi/v1/openOrders",
      "/fapi/v2/account",
      "/fapi/v3/balance",
      "/fapi/v1/userTrades",
    ]) {
      expect((await call("GET", path, sign("symbol=BTCUSDT", "wrong"))).body.code, path).toBe(-1022);
      expect((await call("GET", path, sign("symbol=BTCUSDT"), null)).body.code, path).toBe(-2014);
      expect(
        (await call("GET", path, sign("symbol=BTCUSDT", SECRET, Date.now() - 120_000))).body.code,
        path,
      ).toBe(-1021);
      expect((await call("GET", path, sign("symbol=BTCUSDT"), RO_KEY)).status, path).toBe(200);
    }
    expect((await call("DELETE", "/fapi/v1/allOpenOrders", sign("symbol=BTCUSDT"), RO_KEY)).body.code).toBe(
      -2015,
    );
    expect(
      (await call("POST", "/fapi/v1/countdownCancelAll", sign("symbol=BTCUSDT&countdownTime=1000"), RO_KEY))
        .body.code,
    ).toBe(-2015);
    expect(emu.state.countdownArmed("ro", "BTCUSDT")).toBe(false);
  });

  it("account and balance: the wallet given, unrealized PnL at the mark, v3 lists open positions only", async () => {
    await start();
    emu.state.setPosition("acct", "BTCUSDT", "0.1");
    emu.state.setMarkPrice("BTCUSDT", "66000");
    const v3 = (await call("GET", "/fapi/v3/account", sign(""))).body;
    expect(v3).toMatchObject({
      totalWalletBalance: "2500.50000000",
      totalUnrealizedProfit: "100.00000000",
      totalMarginBalance: "2600.50000000",
      totalInitialMargin: "330.00000000",
      availableBalance: "2270.50000000",
    });
    expect(v3.positions).toEqual([expect.objectContaining({ symbol: "BTCUSDT", positionAmt: "0.100" })]);
    expect((await call("GET", "/fapi/v2/account", sign(""))).body.positions).toHaveLength(2);
    expect((await call("GET", "/fapi/v2/balance", sign(""))).body).toEqual([
      expect.objectContaining({ asset: "USDT", balance: "2500.50000000", crossUnPnl: "100.00000000" }),
    ]);
  });

  it("a MARKET order against a short book fills what is there and expires the rest; IOC likewise; FOK does not touch it", async () => {
    await start();
    emu.state.setDepth("BTCUSDT", { bids: [], asks: [{ price: "65000", qty: "0.004" }] });
    const fok = await call(
      "POST",
      "/fapi/v1/order",
      sign(`${limit("65000.0", "f-1").replace("GTC", "FOK")}&newOrderRespType=RESULT`),
    );
    expect(fok.body).toMatchObject({ status: "EXPIRED", executedQty: "0.000" });
    const mkt = await call(
      "POST",
      "/fapi/v1/order",
      sign("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.010&newOrderRespType=RESULT"),
    );
    expect(mkt.body).toMatchObject({ status: "EXPIRED", executedQty: "0.004", avgPrice: "65000.00000" });
    expect(emu.state.position("acct", "BTCUSDT")).toBe("0.004");
    expect((await call("GET", "/fapi/v1/depth", "symbol=BTCUSDT", null)).body.asks).toEqual([]);
  });
});

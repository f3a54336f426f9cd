import { afterEach, describe, expect, it } from "vitest";
import { type AdminServer, startAdminServer } from "./adminServer.js";
import { binanceAdminCommands } from "./binance/binanceAdmin.js";
import { type BinanceEmulator, startBinanceEmulator } from "./binance/binanceEmulator.js";
import { polymarketAdminCommands } from "./polymarket/polymarketAdmin.js";
import { type PolymarketEmulator, startPolymarketEmulator } from "./polymarket/polymarketEmulator.js";

const KEY = "E".repeat(64);
let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function binance(): Promise<{ emu: BinanceEmulator; admin: AdminServer }> {
  const emu = await startBinanceEmulator({ accounts: [{ name: "a", apiKey: KEY, secret: "s" }] });
  const admin = await startAdminServer({ venue: "binance-usdm", commands: binanceAdminCommands(emu) });
  closers.push(
    () => emu.close(),
    () => admin.close(),
  );
  return { emu, admin };
}

async function polymarket(): Promise<{ emu: PolymarketEmulator; admin: AdminServer }> {
  const emu = await startPolymarketEmulator({ markets: { "77": { tickSize: "0.01" } } });
  const admin = await startAdminServer({ venue: "polymarket", commands: polymarketAdminCommands(emu) });
  closers.push(
    () => emu.close(),
    () => admin.close(),
  );
  return { emu, admin };
}

const call = async (admin: AdminServer, command: string, body: unknown, method = "POST") => {
  const res = await fetch(`${admin.url}/${command}`, {
    method,
    ...(method === "POST" ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe("admin API", () => {
  it("listens on 127.0.0.1 only and lists its commands", async () => {
    const { admin } = await binance();
    expect(admin.url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    expect((await fetch(`${admin.url}/`)).status).toBe(200);
    expect(await (await fetch(`${admin.url}/`)).json()).toEqual({
      venue: "binance-usdm",
      commands: ["price", "book", "position", "wallet", "orders"],
    });
  });

  it("binance: price moves the mark (ticker), book sets the depth, clear removes it", async () => {
    const { emu, admin } = await binance();
    expect(await call(admin, "price", { symbol: "BTCUSDT", price: "70000" })).toEqual({
      status: 200,
      json: { ok: true, result: { symbol: "BTCUSDT", markPrice: "70000" } },
    });
    const ticker = await (await fetch(`${emu.url}/fapi/v1/ticker/price?symbol=BTCUSDT`)).json();
    expect(ticker).toMatchObject({ symbol: "BTCUSDT", price: "70000.00" });
    await call(admin, "book", { symbol: "BTCUSDT", bids: [["69990", "1.5"]], asks: [["70010", "2"]] });
    const depth = await (await fetch(`${emu.url}/fapi/v1/depth?symbol=BTCUSDT&limit=5`)).json();
    expect(depth).toMatchObject({ bids: [["69990.00", "1.500"]], asks: [["70010.00", "2.000"]] });
    await call(admin, "book", { symbol: "BTCUSDT", clear: true });
    expect(await (await fetch(`${emu.url}/fapi/v1/depth?symbol=BTCUSDT`)).json()).toMatchObject({
      bids: [],
      asks: [],
    });
  });

  it("bad requests: 400 with the reason, 404 for an unknown command; nothing changes", async () => {
    const { emu, admin } = await binance();
    expect(await call(admin, "price", { symbol: "NOPE", price: "1" })).toEqual({
      status: 400,
      json: { error: "symbol NOPE is not listed" },
    });
    expect((await call(admin, "price", { symbol: "BTCUSDT", price: "-1" })).status).toBe(400);
    expect((await call(admin, "book", { symbol: "BTCUSDT", bids: [[1, 2]] })).status).toBe(400);
    expect((await call(admin, "price", "{not json")).status).toBe(400);
    expect((await call(admin, "shutdown", {})).status).toBe(404);
    expect((await call(admin, "toString", {})).status).toBe(404);
    expect(emu.state.markPrice("BTCUSDT")).toBe("65000");
  });

  it("polymarket: price sets a one-level book around the price; book replaces it", async () => {
    const { emu, admin } = await polymarket();
    expect(await call(admin, "price", { symbol: "77", price: "0.45", size: "20" })).toEqual({
      status: 200,
      json: { ok: true, result: { symbol: "77", bid: "0.44", ask: "0.45" } },
    });
    const book = async () =>
      (await (await fetch(`${emu.url}/book?token_id=77`)).json()) as Record<string, unknown>;
    expect(await book()).toMatchObject({
      bids: [{ price: "0.44", size: "20" }],
      asks: [{ price: "0.45", size: "20" }],
    });
    await call(admin, "book", { symbol: "77", bids: [], asks: [["0.6", "5"]] });
    expect(await book()).toMatchObject({ bids: [], asks: [{ price: "0.6", size: "5" }] });
    expect((await call(admin, "price", { symbol: "77", price: "1" })).status).toBe(400);
    expect((await call(admin, "book", { symbol: "78" })).status).toBe(400);
  });
});

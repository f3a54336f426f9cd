import { Wallet } from "@ethersproject/wallet";
import { Chain, ClobClient, OrderType, Side } from "@polymarket/clob-client-v2";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type PolymarketEmulator, startPolymarketEmulator } from "./polymarketEmulator.js";

/**
 * The emulator driven by @polymarket/clob-client-v2's `ClobClient` (the real
 * client, over HTTP), as a new user would: resting orders, open orders,
 * cancels, trades, the book, and the heartbeat timer.
 */
const wallet = new Wallet("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
const other = new Wallet("0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e");
const CREDS = {
  key: "aaaaaaaa-2222-3333-4444-555555555555",
  secret: Buffer.from("clob-client-emulator-secret-42").toString("base64url"),
  passphrase: "clob-pass",
};
const OTHER_CREDS = { ...CREDS, key: "bbbbbbbb-2222-3333-4444-555555555555" };
const TOKEN = "2001"; // an empty book, as a new market
const OTHER_TOKEN = "2002";

let emu: PolymarketEmulator;
let client: ClobClient;
let otherClient: ClobClient;

beforeEach(async () => {
  emu = await startPolymarketEmulator({
    apiKeys: [
      { ...CREDS, address: wallet.address },
      { ...OTHER_CREDS, address: other.address },
    ],
    markets: {
      [TOKEN]: { tickSize: "0.01", minOrderSize: "1" },
      [OTHER_TOKEN]: { tickSize: "0.01", minOrderSize: "1" },
    },
    heartbeatTimeoutMs: 300,
    pageSize: 2,
  });
  const make = (signer: Wallet, creds: typeof CREDS) =>
    new ClobClient({
      host: emu.url,
      chain: Chain.POLYGON,
      signer: signer as never,
      creds,
      throwOnError: true,
    });
  client = make(wallet, CREDS);
  otherClient = make(other, OTHER_CREDS);
});
afterEach(async () => {
  await emu.close();
});

const buy = (price: number, size: number, tokenID = TOKEN, c = client, type = OrderType.GTC) =>
  c.createAndPostOrder({ tokenID, price, size, side: Side.BUY }, undefined, type as OrderType.GTC);

describe("clob-client-v2 against the emulator", () => {
  it("a GTC BUY at 0.40 into an empty book rests live; getOrder and getOpenOrders see it", async () => {
    const r = await buy(0.4, 10);
    expect(r).toMatchObject({ success: true, status: "live", makingAmount: "0", takingAmount: "0" });
    expect(await client.getOrder(r.orderID)).toMatchObject({
      id: r.orderID,
      status: "LIVE",
      size_matched: "0",
      original_size: "10",
      price: "0.4",
    });
    const open = await client.getOpenOrders();
    expect(open.map((o) => o.id)).toEqual([r.orderID]);
    expect(await otherClient.getOpenOrders()).toEqual([]);
  });

  it("getOpenOrders follows next_cursor across pages, and filters by asset_id and id", async () => {
    const ids = [];
    for (const p of [0.31, 0.32, 0.33]) ids.push((await buy(p, 5)).orderID);
    const other = (await buy(0.2, 5, OTHER_TOKEN)).orderID;
    expect((await client.getOpenOrders()).map((o) => o.id)).toEqual([...ids, other]);
    const pages = emu.requests().filter((q) => q.path === "/data/orders" && q.outcome === 200);
    expect(pages).toHaveLength(2);
    expect((await client.getOpenOrders({ asset_id: OTHER_TOKEN })).map((o) => o.id)).toEqual([other]);
    expect((await client.getOpenOrders({ id: ids[1]! })).map((o) => o.id)).toEqual([ids[1]]);
    expect(await client.getOpenOrders({ asset_id: OTHER_TOKEN }, true)).toHaveLength(1);
  });

  it("cancelOrder cancels a live order; again, or another key's, is not_canceled", async () => {
    const r = await buy(0.4, 10);
    const theirs = await buy(0.4, 10, TOKEN, otherClient);
    expect(await client.cancelOrder({ orderID: r.orderID })).toEqual({
      canceled: [r.orderID],
      not_canceled: {},
    });
    expect((await client.getOrder(r.orderID)).status).toBe("CANCELED");
    expect(await client.getOpenOrders()).toEqual([]);
    expect(await client.cancelOrder({ orderID: r.orderID })).toEqual({
      canceled: [],
      not_canceled: { [r.orderID]: "Order not found or already canceled" },
    });
    expect((await client.cancelOrder({ orderID: theirs.orderID })).canceled).toEqual([]);
    expect((await otherClient.getOpenOrders()).map((o) => o.id)).toEqual([theirs.orderID]);
  });

  it("cancelOrders, cancelMarketOrders and cancelAll cancel what they name, of this key only", async () => {
    const a = (await buy(0.31, 5)).orderID;
    const b = (await buy(0.32, 5)).orderID;
    const c = (await buy(0.33, 5, OTHER_TOKEN)).orderID;
    const d = (await buy(0.34, 5)).orderID;
    const theirs = (await buy(0.35, 5, TOKEN, otherClient)).orderID;
    expect(await client.cancelOrders([a, b])).toEqual({ canceled: [a, b], not_canceled: {} });
    expect(await client.cancelMarketOrders({ asset_id: OTHER_TOKEN })).toEqual({
      canceled: [c],
      not_canceled: {},
    });
    expect((await client.getOpenOrders()).map((o) => o.id)).toEqual([d]);
    expect(await client.cancelAll()).toEqual({ canceled: [d], not_canceled: {} });
    expect(await client.getOpenOrders()).toEqual([]);
    expect((await otherClient.getOpenOrders()).map((o) => o.id)).toEqual([theirs]);
  });

  it("a FOK that cannot fill in full is refused, as the CLOB does; nothing is placed", async () => {
    emu.setBook(TOKEN, { bids: [], asks: [{ price: "0.40", size: "3" }] });
    const before = emu.orders().length;
    await expect(buy(0.4, 10, TOKEN, client, OrderType.FOK)).rejects.toThrow(
      "order couldn't be fully filled. FOK orders are fully filled or killed.",
    );
    expect(emu.orders()).toHaveLength(before);
  });

  it("the book the operator sets: crossing orders fill and rest the rest; a new book fills resting orders; trades", async () => {
    const resting = await buy(0.4, 10);
    emu.setBook(TOKEN, { bids: [{ price: "0.30", size: "50" }], asks: [{ price: "0.40", size: "4" }] });
    expect(await client.getOrder(resting.orderID)).toMatchObject({ status: "LIVE", size_matched: "4" });
    const book = await client.getOrderBook(TOKEN);
    expect(book.asks).toEqual([]);
    expect(book.bids).toEqual([{ price: "0.3", size: "50" }]);
    emu.setBook(TOKEN, { bids: [], asks: [{ price: "0.45", size: "3" }] });
    const taker = await buy(0.5, 5);
    expect(taker).toMatchObject({ status: "matched", takingAmount: "3" });
    expect(await client.getOrder(taker.orderID)).toMatchObject({ status: "LIVE", size_matched: "3" });
    const trades = await client.getTrades({ asset_id: TOKEN });
    expect(trades.map((t) => [t.trader_side, t.size, t.price])).toEqual([
      ["MAKER", "4", "0.4"],
      ["TAKER", "3", "0.5"],
    ]);
    expect(trades[0]!.maker_orders[0]).toMatchObject({ order_id: resting.orderID, matched_amount: "4" });
    expect(trades[1]!.taker_order_id).toBe(taker.orderID);
    expect(taker.tradeIDs).toEqual([trades[1]!.id]);
    expect(emu.balance(wallet.address, TOKEN)).toBe("7");
  });

  it("heartbeats: once started, a missed heartbeat cancels the key's open orders (only that key's)", async () => {
    // Orders first, then the heartbeat that starts the session (the timer is 300 ms here).
    const mine = await buy(0.4, 10);
    const theirs = await buy(0.4, 10, TOKEN, otherClient);
    const first = await client.postHeartbeat();
    expect(first.heartbeat_id).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(
      async () => {
        expect(await client.getOpenOrders()).toEqual([]);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect((await client.getOrder(mine.orderID)).status).toBe("CANCELED");
    expect(emu.heartbeatActive(CREDS.key)).toBe(false);
    expect((await otherClient.getOpenOrders()).map((o) => o.id)).toEqual([theirs.orderID]);
  });
});

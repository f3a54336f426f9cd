/**
 * Live reference prices end to end (issue 13, point 1): an executor, the
 * signer process and both venue emulators on a real Redis. The executor
 * polls Binance's mark prices and the Polymarket book; a price move is
 * followed by gate 9; a stalled feed denies `limit:stale_price` within
 * `max_price_age_ms`; a Polymarket MARKET plan is sent at the book's best
 * ask; every decision that used a price records which one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PlanResult } from "../../src/core/result.js";
import { type LiveStack, startLiveStack, warmUpLive } from "../support/liveStack.js";
import { PM_TOKEN } from "../support/polymarketWorld.js";

const MAX_PRICE_AGE_MS = 2000;
const POLL_MS = 200;

describe("live reference prices (redis bus, executor, signer, emulators)", () => {
  let stack: LiveStack;

  const resultOf = async (id: string, ms = 20_000): Promise<PlanResult> => {
    const t0 = Date.now();
    for (;;) {
      const r = (await stack.results()).find((x) => x.stream_id === id && x.decision !== "UNKNOWN");
      if (r) return r;
      if (Date.now() - t0 > ms)
        throw new Error(`no result for ${id}: ${stack.executorOutput().slice(-2000)}`);
      await sleep(20);
    }
  };
  const market = (qty = "0.01") => stack.publish({ type: "MARKET", qty });

  beforeAll(async () => {
    stack = await startLiveStack({
      redisUrl: inject("redisUrl"),
      executor: { limits: { max_notional: "1000", max_price_age_ms: MAX_PRICE_AGE_MS } },
      binance: { price_poll_ms: POLL_MS },
      polymarket: { price_poll_ms: POLL_MS },
    });
    stack.polymarket.setMarket(PM_TOKEN, {
      tickSize: "0.01",
      minOrderSize: "5",
      liquidity: { bids: [{ price: "0.3", size: "100000" }], asks: [{ price: "0.7", size: "100000" }] },
    });
    await stack.startExecutor("rp-1");
    await warmUpLive(stack, "binance-usdm");
    await warmUpLive(stack, "polymarket");
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  it("gate 9 follows the venue's mark price, and the result records the price it used", async () => {
    const before = await resultOf(await market());
    expect(before).toMatchObject({ decision: "EXECUTED", mode: "live" });
    expect(before.reference).toMatchObject({ price: "65000", source: "binance-usdm:mark" });
    expect(Date.now() - (before.reference?.at ?? 0)).toBeLessThan(30_000);
    // 0.01 × 120000 = 1200 > max_notional 1000: denied once the feed has read the new mark.
    stack.emulator.state.setMarkPrice("BTCUSDT", "120000");
    await sleep(3 * POLL_MS);
    const after = await resultOf(await market());
    expect(after).toMatchObject({ decision: "DENIED", error: "limit:max_notional" });
    expect(after.reference).toMatchObject({ price: "120000", source: "binance-usdm:mark" });
    stack.emulator.state.setMarkPrice("BTCUSDT", "65000");
    await sleep(3 * POLL_MS);
    expect(await resultOf(await market())).toMatchObject({
      decision: "EXECUTED",
      reference: { price: "65000" },
    });
  }, 60_000);

  it("a stalled feed denies limit:stale_price within max_price_age_ms, and recovers", async () => {
    stack.emulator.faults.inject(
      "marketData",
      { kind: "http_error", status: 503, process: false },
      {
        times: Number.POSITIVE_INFINITY,
      },
    );
    const stalled = Date.now();
    let stale: PlanResult | undefined;
    while (stale === undefined) {
      const r = await resultOf(await market());
      if (r.error === "limit:stale_price") stale = r;
      else expect(r.decision).toBe("EXECUTED");
      if (Date.now() - stalled > 20_000) throw new Error("never stale");
      await sleep(100);
    }
    // The last price read was at most one poll before the stall; it is stale once older than the bound.
    expect(stale.timestamp - stalled).toBeLessThanOrEqual(MAX_PRICE_AGE_MS + 1000);
    expect(stale.timestamp - stalled).toBeGreaterThanOrEqual(MAX_PRICE_AGE_MS - POLL_MS - 100);
    expect(stale.reference).toBeUndefined();
    stack.emulator.faults.clear();
    await sleep(3 * POLL_MS);
    expect(await resultOf(await market())).toMatchObject({ decision: "EXECUTED" });
  }, 60_000);

  it("a Polymarket MARKET plan is sent at the live book's best ask, never at a typed price", async () => {
    const r = await resultOf(await stack.publishPm({ type: "MARKET", price: undefined, qty: "10" }));
    expect(r).toMatchObject({ decision: "EXECUTED", mode: "live", fill_qty: "10" });
    expect(r.reference).toMatchObject({ price: "0.5", source: "polymarket:book_mid" });
    const sent = stack.polymarket.orders().at(-1);
    expect(sent).toMatchObject({ side: "BUY", orderType: "FOK", price: "0.7" });
    // The book moves: the next MARKET BUY follows it.
    stack.polymarket.setMarket(PM_TOKEN, {
      tickSize: "0.01",
      minOrderSize: "5",
      liquidity: { bids: [{ price: "0.5", size: "100000" }], asks: [{ price: "0.6", size: "100000" }] },
    });
    await sleep(3 * POLL_MS);
    const next = await resultOf(await stack.publishPm({ type: "MARKET", price: undefined, qty: "10" }));
    expect(next).toMatchObject({ decision: "EXECUTED", reference: { price: "0.55" } });
    expect(stack.polymarket.orders().at(-1)).toMatchObject({ price: "0.6" });
  }, 60_000);
});

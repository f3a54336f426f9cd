import { describe, expect, it } from "vitest";
import {
  dec,
  decide,
  EXIT_OWNER,
  makePolicy,
  NOW,
  planEntry,
  planObject,
} from "../../../test/support/coreFixtures.js";
import type { VenueName } from "../plan.js";
import type { Policy } from "../policy.js";
import { type LivePrice, livePriceKey } from "../referencePrice.js";
import { outsideBand } from "./limits.js";

/** Live on, INTENTGATE_LIVE=1, both live venues ready; Binance BTCUSDT marked at `mark` read `ageMs` ago. */
function livePolicy(
  opts: { mark?: string | null; ageMs?: number; pm?: Partial<LivePrice> | null; over?: Partial<Policy> } = {},
): Policy {
  const prices = new Map<string, LivePrice>();
  if (opts.mark !== null)
    prices.set(livePriceKey("binance-usdm", "BTCUSDT"), {
      price: dec(opts.mark ?? "70000"),
      at: NOW - (opts.ageMs ?? 0),
      kind: "mark",
    });
  if (opts.pm !== null && opts.pm !== undefined)
    prices.set(livePriceKey("polymarket", "123"), {
      price: dec("0.5"),
      at: NOW,
      kind: "book_mid",
      ...opts.pm,
    });
  return makePolicy({
    live: true,
    liveEnv: true,
    enabledVenues: new Set<VenueName>(["paper", "binance-usdm", "polymarket"]),
    readyVenues: new Map<VenueName, ReadonlySet<string>>([
      ["binance-usdm", new Set(["*"])],
      ["polymarket", new Set(["*"])],
    ]),
    livePrices: prices,
    ...opts.over,
  });
}

const binance = (over: Record<string, unknown> = {}) =>
  planEntry(planObject({ venue: "binance-usdm", account: "acct-1", qty: "1", ...over }));
const pm = (over: Record<string, unknown> = {}) =>
  planEntry(planObject({ venue: "polymarket", account: "acct-1", symbol: "123", qty: "10", ...over }));

describe("live reference prices at gate 9", () => {
  it("a live plan is priced from the venue's own price, never the configured one, and the result says which", () => {
    // Configured 65000; the venue marks 70000. max_notional 250000 holds either way for qty 1.
    const d = decide(binance(), livePolicy());
    expect(d.result).toMatchObject({ decision: "EXECUTED", mode: "live" });
    expect(d.result.reference).toEqual({ price: "70000", source: "binance-usdm:mark", at: NOW });
    expect(d.live?.order.referencePrice).toBe("70000");
    // 3.5 × 70000 = 245000 ≤ 250000, 3.6 × 70000 = 252000 > 250000 (configured 65000 would pass both).
    expect(decide(binance({ qty: "3.5" }), livePolicy()).result.error).toBeNull();
    expect(decide(binance({ qty: "3.6" }), livePolicy()).result).toMatchObject({
      error: "limit:max_notional",
      reference: { price: "70000", source: "binance-usdm:mark" },
    });
  });

  it.each([
    ["exactly max_price_age_ms old", 10_000, null],
    ["1 ms older than max_price_age_ms", 10_001, "limit:stale_price"],
    ["fresh", 0, null],
  ])("a price %s → %s", (_name, ageMs, error) => {
    expect(decide(binance(), livePolicy({ ageMs })).result.error).toBe(error);
  });

  it("no live price at all is stale, not a fallback to the configured price", () => {
    expect(decide(binance(), livePolicy({ mark: null })).result).toMatchObject({
      decision: "DENIED",
      error: "limit:stale_price",
    });
  });

  it("a stale price does not deny a plan that needs none (no notional cap, no band, a Binance order)", () => {
    const policy = livePolicy({ ageMs: 60_000 });
    const noCap = { ...policy, limits: { ...policy.limits, maxNotional: undefined } };
    expect(decide(binance(), noCap).result).toMatchObject({ decision: "EXECUTED", mode: "live" });
    expect(decide(binance(), noCap).live?.order.referencePrice).toBeUndefined();
  });

  it("a reduce-only plan with only a stale price is counted at it toward the daily total (recorded), never left out", () => {
    const stale = livePolicy({ ageMs: 60_000 });
    const policy = {
      ...stale,
      limits: { ...stale.limits, maxNotional: undefined, maxDailyNotional: new Map([["*", dec("1000")]]) },
    };
    const exit = binance({ source: EXIT_OWNER, side: "SELL", reduce_only: true, qty: "2" });
    const d = decide(exit, policy);
    expect(d.result).toMatchObject({
      decision: "EXECUTED",
      mode: "live",
      reference: { price: "70000", source: "binance-usdm:mark", at: NOW - 60_000 },
    });
    // 2 × 70000 counted (never refused: 140000 is far over the cap of 1000)
    expect(d.effects.setDailyNotional?.value).toBe("140000");
    // no price ever read: nothing to count it at, and still never refused
    const none = decide(exit, { ...policy, livePrices: new Map() });
    expect(none.result.decision).toBe("EXECUTED");
    expect(none.effects.setDailyNotional).toBeUndefined();
    // a plan that is not reduce-only needs a fresh price for the cap
    expect(decide(binance(), policy).result.error).toBe("limit:stale_price");
  });

  it("a plan that cannot go live now is denied venue_not_ready (gate 10), not stale_price", () => {
    const d = decide(binance(), livePolicy({ mark: null, over: { liveEnv: false } }));
    expect(d.result.error).toBe("venue_not_ready:binance-usdm");
  });

  it("a dry run (live off) is priced from the configured prices", () => {
    const d = decide(binance(), livePolicy({ over: { live: false } }));
    expect(d.result).toMatchObject({
      mode: "paper",
      reference: { price: "65000", source: "config", at: null },
    });
  });

  it("a Polymarket MARKET plan is sent at the book's best ask to buy, best bid to sell; an empty side is refused", () => {
    const book = { price: dec("0.5"), bid: dec("0.3"), ask: dec("0.7") };
    const buy = decide(pm({ type: "MARKET" }), livePolicy({ pm: book }));
    expect(buy.result).toMatchObject({
      decision: "EXECUTED",
      reference: { price: "0.5", source: "polymarket:book_mid" },
    });
    expect(buy.live?.order.referencePrice).toBe("0.7");
    const sell = decide(pm({ type: "MARKET", side: "SELL" }), livePolicy({ pm: book }));
    expect(sell.live?.order.referencePrice).toBe("0.3");
    const noAsk = decide(pm({ type: "MARKET" }), livePolicy({ pm: { price: dec("0.3"), bid: dec("0.3") } }));
    expect(noAsk.result.error).toBe("limit:no_reference_price");
    expect(decide(pm({ type: "MARKET" }), livePolicy({ pm: null })).result.error).toBe("limit:stale_price");
  });

  it("a Polymarket MARKET plan's notional is measured at the price it is sent at, not the midpoint (the LIMIT rule: the larger of that price and the reference)", () => {
    // bid 0.30 / ask 0.70, midpoint 0.50; qty 10. A BUY is sent FOK at 0.70: notional 7, not 5.
    const book = { price: dec("0.5"), bid: dec("0.3"), ask: dec("0.7") };
    const capped = (max: string) => {
      const p = livePolicy({ pm: book });
      return { ...p, limits: { ...p.limits, maxNotional: dec(max) } };
    };
    expect(decide(pm({ type: "MARKET" }), capped("6.99")).result.error).toBe("limit:max_notional");
    expect(decide(pm({ type: "MARKET" }), capped("7")).result.error).toBeNull();
    // A SELL is sent at the bid (0.30), below the midpoint: measured at the larger, 0.50 → 5.
    expect(decide(pm({ type: "MARKET", side: "SELL" }), capped("4.99")).result.error).toBe(
      "limit:max_notional",
    );
    expect(decide(pm({ type: "MARKET", side: "SELL" }), capped("5")).result.error).toBeNull();
    // The daily total counts the same notional: 7 for the BUY.
    const p = livePolicy({ pm: book });
    const daily = {
      ...p,
      limits: { ...p.limits, maxNotional: undefined, maxDailyNotional: new Map([["*", dec("6.99")]]) },
    };
    expect(decide(pm({ type: "MARKET" }), daily).result.error).toBe("limit:daily_notional");
    const roomy = { ...daily, limits: { ...daily.limits, maxDailyNotional: new Map([["*", dec("100")]]) } };
    expect(decide(pm({ type: "MARKET" }), roomy).effects.setDailyNotional?.value).toBe("7");
  });
});

describe("price band (limits.price_band_pct)", () => {
  const banded = (pct: Record<string, string>, over: Partial<Policy> = {}) => {
    const p = livePolicy({ over });
    return {
      ...p,
      limits: { ...p.limits, priceBandPct: new Map(Object.entries(pct).map(([k, v]) => [k, dec(v)])) },
    };
  };
  it.each([
    ["73500", null], // +5 % of 70000: on the edge, inside
    ["73500.000001", "limit:price_band"],
    ["66500", null], // −5 %
    ["66499.99", "limit:price_band"],
    ["70000", null],
  ])("a LIMIT at %s against a 70000 mark and a 5 %% band → %s", (price, error) => {
    expect(decide(binance({ type: "LIMIT", price }), banded({ "*": "5" })).result.error).toBe(error);
  });

  it("a symbol's own band wins over *; a MARKET plan has no band", () => {
    const policy = banded({ "*": "50", BTCUSDT: "1" });
    expect(decide(binance({ type: "LIMIT", price: "71000" }), policy).result.error).toBe("limit:price_band");
    expect(decide(binance({ type: "LIMIT", price: "70700" }), policy).result.error).toBeNull();
    expect(decide(binance({ type: "MARKET" }), policy).result.error).toBeNull();
  });

  it("a band with no reference price at all is refused, never skipped", () => {
    const paper = makePolicy();
    const policy = { ...paper, limits: { ...paper.limits, priceBandPct: new Map([["*", dec("5")]]) } };
    const entry = planEntry(planObject({ symbol: "DOGEUSDT", type: "LIMIT", price: "1", qty: "1" }));
    expect(decide(entry, policy).result.error).toBe("limit:no_reference_price");
  });

  it("outsideBand compares exactly: |p − r| × 100 > pct × r", () => {
    expect(outsideBand(dec("105"), dec("100"), dec("5"))).toBe(false);
    expect(outsideBand(dec("105.000000000000000001"), dec("100"), dec("5"))).toBe(true);
    expect(outsideBand(dec("95"), dec("100"), dec("5"))).toBe(false);
    expect(outsideBand(dec("94.999999999999999999"), dec("100"), dec("5"))).toBe(true);
  });
});

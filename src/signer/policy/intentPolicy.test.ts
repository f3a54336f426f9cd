import { describe, expect, it } from "vitest";
import { type Decimal, parseDecimal } from "../../core/decimal.js";
import type { PayloadEffect } from "../payloadKind.js";
import { parseSignerConfig } from "../signerConfig.js";
import {
  checkStatelessPolicy,
  compilePolicies,
  type IntentPolicy,
  ledgerClaim,
  type PolicyFacts,
  policyOf,
} from "./intentPolicy.js";
import { PolicyLedger } from "./policyLedger.js";
import { RateLimiter } from "./rateLimiter.js";
import type { ReferencePriceSource } from "./referencePrices.js";
import { RollingWindow } from "./rollingWindow.js";

const d = (s: string): Decimal => parseDecimal(s)!;
const NOW = 1_700_000_000_000;
const prices = (table: Record<string, string>): ReferencePriceSource => ({
  reference: (venue, symbol) =>
    table[`${venue}:${symbol}`] === undefined ? undefined : d(table[`${venue}:${symbol}`]!),
});
const facts = (table: Record<string, string> = { "binance-usdm:BTCUSDT": "65000" }): PolicyFacts => ({
  nowMs: NOW,
  maxClockSkewMs: 5000,
  maxRecvWindowMs: 5000,
  prices: prices(table),
});
const policy: IntentPolicy = {
  maxNotional: d("1000"),
  symbols: new Set(["BTCUSDT"]),
  ratePerAccountPerS: 2,
  cancelRatePerAccountPerS: 1,
  keepaliveRatePerAccountPerS: 3,
  maxCountdownMs: 120_000,
  windows: [],
  needsNotional: true,
};
const none = policyOf(new Map(), "cex_api_signer");

function order(o: {
  qty: string;
  price?: string;
  symbol?: string;
  cap?: string;
  venue?: string;
}): PayloadEffect {
  return {
    venue: o.venue ?? "binance-usdm",
    action: "order",
    ...(o.symbol === undefined ? { symbol: "BTCUSDT" } : o.symbol === "" ? {} : { symbol: o.symbol }),
    order: {
      qty: d(o.qty),
      price: o.price === undefined ? undefined : d(o.price),
      unitCap: o.cap === undefined ? undefined : d(o.cap),
    },
    timestamp: { ms: NOW, resolutionMs: 1 },
    replayableRead: false,
  };
}

describe("the signer's own notional (signing-plane-v1 §3a)", () => {
  it.each([
    ["a MARKET order: qty × the signer's reference", { qty: "0.01" }, "650"],
    ["a LIMIT BUY above the reference: its own price", { qty: "0.01", price: "70000" }, "700"],
    [
      "a LIMIT SELL far below the reference: the reference (the value given away)",
      { qty: "0.01", price: "0.01" },
      "650",
    ],
  ])("%s", (_what, o, notional) => {
    expect(checkStatelessPolicy(none, order(o), facts())).toMatchObject({
      ok: true,
      notional: d(notional),
      reference: d("65000"),
    });
  });

  it("a Polymarket share's cap (1 USDC) stands in for a missing reference; a fresh one is used when the signer has it", () => {
    const sell = order({ venue: "polymarket", symbol: "42", qty: "1000000", price: "0.001", cap: "1" });
    expect(checkStatelessPolicy(none, sell, facts({}))).toMatchObject({ ok: true, notional: d("1000000") });
    expect(checkStatelessPolicy(none, sell, facts({ "polymarket:42": "0.6" }))).toMatchObject({
      ok: true,
      notional: d("600000"),
      reference: d("0.6"),
    });
  });

  it("rounds a notional past 18 decimals up, never down", () => {
    const tiny = order({ qty: "0.000000001", price: "0.000000001", symbol: "X" });
    expect(checkStatelessPolicy(none, tiny, facts({ "binance-usdm:X": "0.000000001" }))).toMatchObject({
      notional: 1n,
    });
  });

  it("no reference while a notional limit applies → no_reference_price (LIMIT orders too)", () => {
    expect(checkStatelessPolicy(policy, order({ qty: "100", price: "0.01" }), facts({}))).toEqual({
      ok: false,
      reason: "policy:no_reference_price",
    });
    // Without a notional limit, an order with no reference is not refused for it.
    expect(checkStatelessPolicy(none, order({ qty: "100", price: "0.01" }), facts({}))).toMatchObject({
      ok: true,
      notional: undefined,
    });
  });
});

describe("stateless signer limits", () => {
  it.each([
    ["at the limit", { qty: "0.01", price: "100000" }, undefined],
    ["1e-18 over", { qty: "0.01", price: "100000.0000000000000001" }, "policy:max_notional"],
    ["another symbol", { qty: "0.001", symbol: "ETHUSDT", price: "1" }, "policy:no_reference_price"],
    ["no symbol", { qty: "0.001", symbol: "" }, "policy:no_reference_price"],
  ] as const)("%s → %s", (_what, o, reason) => {
    const out = checkStatelessPolicy(policy, order(o), facts());
    expect(out.ok ? undefined : out.reason).toBe(reason);
  });

  it("symbols after the notional: a listed reference for an unlisted symbol → symbols", () => {
    const p = { ...policy, maxNotional: d("1000") };
    const out = checkStatelessPolicy(
      p,
      order({ qty: "1", symbol: "ETHUSDT" }),
      facts({ "binance-usdm:ETHUSDT": "3" }),
    );
    expect(out).toEqual({ ok: false, reason: "policy:symbols" });
  });

  it.each([
    ["now", 0, undefined],
    ["5 s ahead", 5000, undefined],
    ["5.001 s ahead", 5001, "policy:stale_timestamp"],
    ["5 s behind", -5000, undefined],
    ["one hour ahead", 3_600_000, "policy:stale_timestamp"],
    ["10 years ahead", 3650 * 86_400_000, "policy:stale_timestamp"],
    ["timestamp=1", 1 - NOW, "policy:stale_timestamp"],
  ] as const)("a payload stamped %s → %s (queries too)", (_what, delta, reason) => {
    const read: PayloadEffect = {
      venue: "binance-usdm",
      action: "query_order",
      timestamp: { ms: NOW + delta, resolutionMs: 1 },
      replayableRead: true,
    };
    const out = checkStatelessPolicy(none, read, facts());
    expect(out.ok ? undefined : out.reason).toBe(reason);
  });

  it("whole-second timestamps (Polymarket L2) cover their second", () => {
    const l2 = (seconds: number): PayloadEffect => ({
      venue: "polymarket",
      action: "open_orders",
      timestamp: { ms: seconds * 1000, resolutionMs: 1000 },
      replayableRead: false,
    });
    const atNow = Math.floor(NOW / 1000);
    expect(checkStatelessPolicy(none, l2(atNow - 5), facts()).ok).toBe(true); // covers up to NOW - 4001
    expect(checkStatelessPolicy(none, l2(atNow - 6), facts()).ok).toBe(false);
    expect(checkStatelessPolicy(none, l2(Date.UTC(2100, 0, 1) / 1000), facts())).toEqual({
      ok: false,
      reason: "policy:stale_timestamp",
    });
  });

  it("recvWindow above the signer's maximum → recv_window", () => {
    const e = (recvWindowMs: number): PayloadEffect => ({ ...order({ qty: "0.01" }), recvWindowMs });
    expect(checkStatelessPolicy(none, e(5000), facts()).ok).toBe(true);
    expect(checkStatelessPolicy(none, e(5001), facts())).toEqual({ ok: false, reason: "policy:recv_window" });
  });

  it("compiles the config's policy, windows included", () => {
    const c = parseSignerConfig({
      vault: { path: "v", passphrase_env: "P" },
      audit: { path: "a", key_env: "K" },
      intents: { cex_api_signer: { routes: { r: "order" } } },
      policy: {
        cex_api_signer: {
          max_notional: "0.5",
          symbols: ["X"],
          windows: [
            { window: "1m", max_orders: 3 },
            { window: "24h", max_notional: "10" },
          ],
        },
      },
    });
    const p = compilePolicies(c).get("cex_api_signer");
    expect(p?.maxNotional).toBe(d("0.5"));
    expect([...(p?.symbols ?? [])]).toEqual(["X"]);
    expect(p?.ratePerAccountPerS).toBeUndefined();
    expect(p?.windows.map((w) => [w.label, w.ms, w.maxOrders, w.maxNotional])).toEqual([
      ["1m", 60_000, 3, undefined],
      ["24h", 86_400_000, undefined, d("10")],
    ]);
    expect(p?.needsNotional).toBe(true);
  });
});

describe("ledger: rates and rolling windows", () => {
  const claimFor = (
    p: IntentPolicy,
    account: string,
    effect: PayloadEffect,
    cancelCapable = false,
    notional?: string,
  ) =>
    ledgerClaim(p, {
      intent: "cex_api_signer",
      account,
      effect,
      cancelCapable,
      notional: notional === undefined ? undefined : d(notional),
    });

  it("orders claim the order rate; cancel-capable reads the cancel rate; plain reads nothing", () => {
    const l = new PolicyLedger();
    const o = claimFor(policy, "a1", order({ qty: "0.01" }))!;
    expect([l.tryClaim(o, 0), l.tryClaim(o, 10), l.tryClaim(o, 20)]).toEqual([
      undefined,
      undefined,
      "policy:rate",
    ]);
    const read: PayloadEffect = { venue: "binance-usdm", action: "query_order", replayableRead: true };
    const c = claimFor(policy, "a1", read, true)!;
    expect([l.tryClaim(c, 0), l.tryClaim(c, 10)]).toEqual([undefined, "policy:cancel_rate"]);
    expect(claimFor(policy, "a1", read, false)).toBeUndefined();
  });

  it("keep-alives claim their own rate, never the cancel rate; cancels never the order rate or windows", () => {
    const l = new PolicyLedger();
    const p: IntentPolicy = {
      ...policy,
      windows: [{ label: "1m", ms: 60_000, maxNotional: undefined, maxOrders: 1 }],
    };
    const cancel: PayloadEffect = { venue: "binance-usdm", action: "cancel", replayableRead: false };
    const keep: PayloadEffect = {
      venue: "binance-usdm",
      action: "countdown",
      countdownMs: 1000,
      replayableRead: false,
    };
    const c = ledgerClaim(p, {
      intent: "cex_api_signer",
      account: "a1",
      effect: cancel,
      cancelCapable: true,
      notional: undefined,
    })!;
    const k = ledgerClaim(p, {
      intent: "cex_api_signer",
      account: "a1",
      effect: keep,
      cancelCapable: false,
      keepAlive: true,
      notional: undefined,
    })!;
    expect(c).toMatchObject({ rate: undefined, cancelRate: 1, keepaliveRate: undefined, windows: [] });
    expect(k).toMatchObject({ rate: undefined, cancelRate: undefined, keepaliveRate: 3, windows: [] });
    expect([l.tryClaim(c, 0), l.tryClaim(c, 1)]).toEqual([undefined, "policy:cancel_rate"]);
    expect([0, 1, 2, 3].map((t) => l.tryClaim(k, t))).toEqual([
      undefined,
      undefined,
      undefined,
      "policy:keepalive_rate",
    ]);
  });

  it("countdown: 0 and anything past the bound are refused; no policy still bounds it", () => {
    const effect = (ms: number): PayloadEffect => ({
      venue: "binance-usdm",
      action: "countdown",
      symbol: "BTCUSDT",
      countdownMs: ms,
      replayableRead: false,
    });
    const reason = (p: IntentPolicy, ms: number) => {
      const v = checkStatelessPolicy(p, effect(ms), facts());
      return v.ok ? "ok" : v.reason;
    };
    expect([0, 1, 120_000, 120_001].map((ms) => reason(policy, ms))).toEqual([
      "policy:countdown",
      "ok",
      "ok",
      "policy:countdown",
    ]);
    expect([300_000, 300_001].map((ms) => reason(none, ms))).toEqual(["ok", "policy:countdown"]);
    // A countdown is not an order: the symbol list (BTCUSDT only) and notional limits never see it.
    const eth = checkStatelessPolicy(policy, { ...effect(1000), symbol: "ETHUSDT" }, facts({}));
    expect(eth).toEqual({ ok: true, notional: undefined, reference: undefined });
  });

  it("window_notional and window_orders per account over the window; denied claims count nowhere", () => {
    const p: IntentPolicy = {
      ...policy,
      ratePerAccountPerS: undefined,
      windows: [{ label: "1m", ms: 60_000, maxNotional: d("1000"), maxOrders: 2 }],
    };
    const l = new PolicyLedger();
    const c = (n: string, account = "a1") => claimFor(p, account, order({ qty: "0.01" }), false, n)!;
    expect(l.tryClaim(c("600"), 0)).toBeUndefined();
    expect(l.tryClaim(c("600"), 1000)).toBe("policy:window_notional");
    expect(l.tryClaim(c("300"), 2000)).toBeUndefined();
    expect(l.tryClaim(c("100"), 3000)).toBe("policy:window_orders"); // 2 counted: a third is one too many
    expect(l.tryClaim(c("100", "a2"), 3000)).toBeUndefined(); // another account's window is its own
    // Once the first orders are older than the window (and its one-slice margin), room again.
    expect(l.tryClaim(c("600"), 62_001)).toBeUndefined();
  });

  it("restore counts audit-log orders into the windows (a restart keeps them)", () => {
    const p: IntentPolicy = {
      ...policy,
      windows: [{ label: "1h", ms: 3_600_000, maxNotional: undefined, maxOrders: 2 }],
    };
    const l = new PolicyLedger();
    l.restore("cex_api_signer\na1", p.windows, NOW - 60_000, d("1"));
    l.restore("cex_api_signer\na1", p.windows, NOW - 30_000, d("1"));
    const c = claimFor({ ...p, ratePerAccountPerS: undefined }, "a1", order({ qty: "0.01" }), false, "1")!;
    expect(l.tryClaim(c, NOW)).toBe("policy:window_orders");
  });
});

describe("rolling window", () => {
  it("counts an order until it is older than the window plus one slice, never dropping it early", () => {
    const w = new RollingWindow(60_000); // slices of 1 s
    w.add(10_500, d("5"));
    expect(w.sum(10_500)).toEqual({ orders: 1, notional: d("5") });
    expect(w.sum(70_499).orders).toBe(1); // 59.999 s later: in the window
    expect(w.sum(70_999).orders).toBe(1); // past the window, within its slice: still counted (fails closed)
    expect(w.sum(71_000).orders).toBe(0);
  });

  it("reuses slices as time goes round", () => {
    const w = new RollingWindow(60_000);
    for (let t = 0; t < 600_000; t += 500) w.add(t, d("1"));
    expect(w.sum(600_000).orders).toBeGreaterThanOrEqual(120);
    expect(w.sum(600_000).orders).toBeLessThanOrEqual(122);
  });
});

describe("rate limiter", () => {
  it("allows `limit` grants in any 1000 ms window per key", () => {
    const r = new RateLimiter();
    const a = { key: "cex_api_signer\nacct1", limit: 2 };
    const b = { key: "cex_api_signer\nacct2", limit: 2 };
    expect([r.tryRecord(a, 0), r.tryRecord(a, 500), r.tryRecord(a, 999)]).toEqual([true, true, false]);
    expect(r.tryRecord(b, 999)).toBe(true);
    expect(r.tryRecord(a, 1000)).toBe(true); // the grant at 0 left the window
    expect(r.tryRecord(a, 1400)).toBe(false); // 500 and 1000 are still in it
    expect(r.tryRecord(a, 1500)).toBe(true);
  });

  it("sliding: no burst of 2× limit across a second boundary", () => {
    const r = new RateLimiter();
    const a = { key: "k", limit: 2 };
    expect([r.tryRecord(a, 990), r.tryRecord(a, 995), r.tryRecord(a, 1001), r.tryRecord(a, 1002)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it("no claim for queries or without a limit", () => {
    const read: PayloadEffect = { venue: "binance-usdm", action: "position_risk", replayableRead: false };
    expect(
      ledgerClaim(policy, {
        intent: "cex_api_signer",
        account: "a",
        effect: read,
        cancelCapable: false,
        notional: undefined,
      }),
    ).toBeUndefined();
    expect(
      ledgerClaim(none, {
        intent: "cex_api_signer",
        account: "a",
        effect: order({ qty: "1" }),
        cancelCapable: false,
        notional: undefined,
      }),
    ).toBeUndefined();
  });

  it("forgets idle windows", () => {
    const r = new RateLimiter();
    for (let i = 0; i < 5000; i++) r.tryRecord({ key: `k${i}`, limit: 1 }, i * 10);
    expect(r.tryRecord({ key: "k4999", limit: 1 }, 49_995)).toBe(false);
    expect(r.tryRecord({ key: "k0", limit: 1 }, 49_995)).toBe(true);
  });
});

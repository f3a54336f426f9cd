import { describe, expect, it } from "vitest";
import { exampleResult } from "../../../test/support/exampleResult.js";
import { parseDecimal } from "../decimal.js";
import type { OrderEvent } from "../orderEvent.js";
import type { PlanResult } from "../result.js";
import { driftActionFor } from "./driftActions.js";
import { DriftCheck, type DriftSettings } from "./driftCheck.js";
import { ExplainedPositions } from "./explainedPositions.js";
import { InFlight } from "./inFlight.js";
import { ReadFailures } from "./readFailures.js";
import type { PositionSlot } from "./slot.js";

const BIN: PositionSlot = { book: "binance-usdm", account: "a1", symbol: "BTCUSDT" };

function fill(over: Partial<PlanResult>): PlanResult {
  return exampleResult({
    venue: "binance-usdm",
    account: "a1",
    symbol: "BTCUSDT",
    side: "BUY",
    qty: "1",
    reduce_only: false,
    decision: "EXECUTED",
    executed: true,
    error: null,
    mode: "live",
    client_order_id: "ig-1",
    fill_qty: "1",
    ...over,
  });
}

function event(over: Partial<OrderEvent>): OrderEvent {
  return {
    v: 1,
    plan_id: "p-1",
    venue: "binance-usdm",
    account: "a1",
    symbol: "BTCUSDT",
    client_order_id: "ig-1",
    order_id: "9",
    event: "FILL",
    fill_qty: "0",
    avg_price: null,
    cause: null,
    timestamp: 0,
    ...over,
  };
}

describe("ExplainedPositions", () => {
  it("adds executed fills by side and ignores denials, cancels and unreadable results", () => {
    const x = new ExplainedPositions();
    x.observeResult(fill({ qty: "2", fill_qty: "2" }));
    x.observeResult(fill({ client_order_id: "ig-2", side: "SELL", qty: "0.5", fill_qty: "0.5" }));
    x.observeResult(fill({ client_order_id: "ig-3", decision: "DENIED", executed: false, fill_qty: null }));
    x.observeResult(fill({ client_order_id: "ig-4", action: "cancel" }));
    x.observeResult(fill({ client_order_id: null }));
    expect(x.qty(BIN)).toBe(1_500_000_000_000_000_000n);
  });

  it("puts a dry run's fills (mode paper on a live venue) in the paper book", () => {
    const x = new ExplainedPositions();
    const slot = x.observeResult(fill({ mode: "paper" }));
    expect(slot).toEqual({ book: "paper", account: "a1", symbol: "BTCUSDT" });
    expect(x.qty(BIN)).toBe(0n);
  });

  it("counts a resting order's cumulative fills once, through its events", () => {
    const x = new ExplainedPositions();
    x.observeResult(fill({ qty: "3", fill_qty: "1" }));
    x.observeEvent(event({ fill_qty: "2" }));
    x.observeEvent(event({ fill_qty: "2" }));
    x.observeEvent(event({ event: "CANCELED", fill_qty: "2.5", cause: "venue" }));
    x.observeEvent(event({ fill_qty: "3" })); // after its end: not followed any more
    expect(x.qty(BIN)).toBe(2_500_000_000_000_000_000n);
  });

  it("counts an UNKNOWN order's reconciled fill once it is known", () => {
    const x = new ExplainedPositions();
    x.observeResult(fill({ decision: "UNKNOWN", executed: false, fill_qty: null }));
    expect(x.qty(BIN)).toBe(0n);
    x.observeResult(fill({ reconciled: true }));
    expect(x.qty(BIN)).toBe(1_000_000_000_000_000_000n);
  });

  it("does not re-add what a seeded working order filled before the watcher started", () => {
    const x = new ExplainedPositions();
    x.seed([
      {
        key: "k",
        plan_id: "p-1",
        source: "s",
        lane: "main",
        stream_id: "1-0",
        venue: "binance-usdm",
        mode: "live",
        account: "a1",
        symbol: "BTCUSDT",
        side: "SELL",
        qty: "2",
        price: "100",
        reduce_only: false,
        client_order_id: "ig-1",
        order_id: "9",
        fill_qty: "1",
        placed_at: 0,
      },
    ]);
    x.observeEvent(event({ fill_qty: "2" }));
    expect(x.qty(BIN)).toBe(-1_000_000_000_000_000_000n);
  });

  it("restores from its snapshot and refuses what is not one", () => {
    const x = new ExplainedPositions();
    x.observeResult(fill({ qty: "3", fill_qty: "1" }));
    const y = ExplainedPositions.restore(JSON.parse(JSON.stringify(x.snapshot())));
    y.observeEvent(event({ fill_qty: "3" }));
    expect(y.qty(BIN)).toBe(3_000_000_000_000_000_000n);
    expect(() => ExplainedPositions.restore({ v: 2 })).toThrow(/not a snapshot/);
    expect(() => ExplainedPositions.restore({ v: 1, qty: { k: "x" }, orders: {} })).toThrow(/not a decimal/);
  });
});

describe("DriftCheck", () => {
  const settings: DriftSettings = { settleMs: 5000, actionFor: () => "alert" };
  const read = (qty: string | undefined) => ({
    book: "binance-usdm" as const,
    account: "a1",
    positions: qty === undefined ? [] : [{ account: "a1", symbol: "BTCUSDT", qty }],
  });
  const none = new InFlight();

  it("takes positions held at the first reading as the base, not as drift", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    expect(d.check(read("5"), x, none, 0).alerts).toEqual([]);
    expect(d.check(read("5"), x, none, 1000).alerts).toEqual([]);
  });

  it("alerts an unexplained change once, at the second reading that shows it", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    expect(d.check(read("0.01"), x, none, 1000).alerts).toEqual([]);
    const [alert, ...rest] = d.check(read("0.01"), x, none, 2000).alerts;
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      kind: "position_drift",
      venue: "binance-usdm",
      account: "a1",
      symbol: "BTCUSDT",
      expected: "0",
      actual: "0.01",
      drift: "0.01",
      action: "alert",
      timestamp: 2000,
    });
    expect(d.check(read("0.01"), x, none, 3000).alerts).toEqual([]);
    // The gauge keeps saying how much no decision explains.
    expect(d.check(read("0.01"), x, none, 4000).unexplained).toEqual([{ slot: BIN, qty: "0.01" }]);
  });

  it("raises nothing for an explained fill, nor for a difference seen once", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    expect(d.check(read("1"), x, none, 1000).alerts).toEqual([]); // the fill shows before its result
    x.observeResult(fill({}));
    expect(d.check(read("1"), x, none, 2000).alerts).toEqual([]);
    expect(d.check(read("1"), x, none, 3000).alerts).toEqual([]);
  });

  it("alerts a position closed by hand, with the expected and actual quantities", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    x.observeResult(fill({ side: "SELL", qty: "2", fill_qty: "2" }));
    d.check(read("-2"), x, none, 1000);
    d.check(read(undefined), x, none, 2000);
    const alerts = d.check(read(undefined), x, none, 3000).alerts;
    expect(alerts.map((a) => [a.expected, a.actual, a.drift])).toEqual([["-2", "0", "2"]]);
  });

  it("waits settleMs when orders in flight could explain the difference, then alerts if the last two readings agree", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    const inFlight = new InFlight();
    inFlight.order(BIN, "BUY", parseDecimal("1")!);
    d.check(read(undefined), x, inFlight, 0);
    for (const t of [1000, 2000, 3000, 4000]) expect(d.check(read("1"), x, inFlight, t).alerts).toEqual([]);
    expect(d.check(read("1"), x, inFlight, 6000).alerts).toHaveLength(1);
  });

  it("does not wait for a difference no order in flight could explain (a BUY rests, the position was sold by hand)", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    const inFlight = new InFlight();
    inFlight.order(BIN, "BUY", parseDecimal("1")!);
    d.check(read("5"), x, inFlight, 0);
    expect(d.check(read("2"), x, inFlight, 1000).alerts).toEqual([]);
    expect(d.check(read("2"), x, inFlight, 2000).alerts.map((a) => a.drift)).toEqual(["-3"]);
    // More than the BUY could fill: not explained either.
    d.check(read("4"), x, inFlight, 3000);
    expect(d.check(read("4"), x, inFlight, 4000).alerts.map((a) => a.drift)).toEqual(["2"]);
  });

  it("waits settleMs for any difference on a slot a result touched during the reading", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    const inFlight = new InFlight();
    inFlight.any(BIN);
    d.check(read(undefined), x, inFlight, 0);
    expect(d.check(read("-7"), x, inFlight, 1000).alerts).toEqual([]);
    expect(d.check(read("-7"), x, inFlight, 2000).alerts).toEqual([]);
    expect(d.check(read("-7"), x, none, 3000).alerts).toHaveLength(1);
  });

  it("starts over when the difference changes between readings", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    expect(d.check(read("1"), x, none, 1000).alerts).toEqual([]);
    expect(d.check(read("2"), x, none, 2000).alerts).toEqual([]);
    expect(d.check(read("2"), x, none, 3000).alerts.map((a) => a.actual)).toEqual(["2"]);
  });

  it("continues from its snapshot: a pending difference confirmed after a restart alerts once", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    d.check(read("1"), x, none, 1000);
    const again = new DriftCheck(settings, JSON.parse(JSON.stringify(d.snapshot())));
    expect(again.check(read("1"), x, none, 2000).alerts).toHaveLength(1);
    const third = new DriftCheck(settings, JSON.parse(JSON.stringify(again.snapshot())));
    expect(third.check(read("1"), x, none, 3000).alerts).toEqual([]);
    expect(() => new DriftCheck(settings, { v: 1 })).toThrow(/not a snapshot/);
  });

  it("names the configured action in the alert", () => {
    const d = new DriftCheck({ settleMs: 0, actionFor: driftActionFor({ "binance-usdm/a1": "halt" }) });
    const x = new ExplainedPositions();
    d.check(read(undefined), x, none, 0);
    d.check(read("1"), x, none, 1);
    expect(d.check(read("1"), x, none, 2).alerts[0]?.action).toBe("halt");
  });

  it("judges each paper account of a ledger-wide reading, with one base for the book", () => {
    const d = new DriftCheck(settings);
    const x = new ExplainedPositions();
    const paper = (qty: string) => ({
      book: "paper" as const,
      positions: [
        { account: "default", symbol: "ETH", qty: "1" },
        { account: "b", symbol: "ETH", qty },
      ],
    });
    d.check(paper("1"), x, none, 0);
    // A new account's position after the base: no result explains it.
    const later = (qty: string) => ({
      book: "paper" as const,
      positions: [...paper(qty).positions, { account: "c", symbol: "ETH", qty: "3" }],
    });
    d.check(later("1"), x, none, 1);
    expect(d.check(later("1"), x, none, 2).alerts.map((a) => [a.account, a.actual])).toEqual([["c", "3"]]);
  });
});

describe("driftActionFor", () => {
  it("takes the most specific of <venue>/<account>, <venue>, *; else alert", () => {
    const f = driftActionFor({ "*": "reduce", polymarket: "alert", "binance-usdm/a1": "halt" });
    expect(f("binance-usdm", "a1")).toBe("halt");
    expect(f("binance-usdm", "a2")).toBe("reduce");
    expect(f("polymarket", "a1")).toBe("alert");
    expect(driftActionFor({})("paper", "default")).toBe("alert");
  });
});

describe("ReadFailures", () => {
  it("alerts the first failure, repeats after repeatMs while failing, and starts over after a good read", () => {
    const r = new ReadFailures(10_000);
    r.succeeded("polymarket", "a", 5);
    expect(r.failed("polymarket", "a", "timeout", 10)).toMatchObject({
      kind: "venue_unreadable",
      venue: "polymarket",
      account: "a",
      error: "timeout",
      last_read: 5,
    });
    expect(r.failed("polymarket", "a", "timeout", 5000)).toBeUndefined();
    expect(r.failed("polymarket", "a", "timeout", 10_010)).toBeDefined();
    const restored = new ReadFailures(10_000, JSON.parse(JSON.stringify(r.snapshot())));
    expect(restored.failed("polymarket", "a", "timeout", 11_000)).toBeUndefined();
    restored.succeeded("polymarket", "a", 12_000);
    expect(restored.failed("polymarket", "a", "timeout", 12_001)).toBeDefined();
    expect(restored.lastRead("polymarket", "a")).toBe(12_000);
  });
});

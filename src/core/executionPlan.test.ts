/**
 * The paper venue (wire §7a) is the execution step in core, not an adapter:
 * these are the venue rules the removed `adapters/paper/paperVenue.ts` held
 * for its conformance test, now asserted where the executor really applies
 * them, through {@link decide} (gates, then {@link planExecution}).
 */
import { describe, expect, it } from "vitest";
import {
  decide,
  EXIT_OWNER,
  makeFacts,
  makePolicy,
  PAPER_BOOK,
  planEntry,
  planObject,
} from "../../test/support/coreFixtures.js";

const limit = { type: "LIMIT", price: "64000.5" };

describe("paper venue (execution step)", () => {
  it("fills MARKET at the reference price, at once and in full", () => {
    const d = decide(planEntry(planObject({ qty: "0.25" })));
    expect(d.result).toMatchObject({ decision: "EXECUTED", error: null, executed: true });
    expect(d.result).toMatchObject({ fill_qty: "0.25", avg_price: "65000", mode: "paper" });
    expect(d.effects.setPosition).toEqual({
      account: "default",
      symbol: "BTCUSDT",
      ...PAPER_BOOK,
      value: "0.25",
    });
  });

  it("fills LIMIT at its own price, not the reference", () => {
    const d = decide(planEntry(planObject({ qty: "0.25", ...limit })));
    expect(d.result.decision).toBe("EXECUTED");
    expect(d.result).toMatchObject({ fill_qty: "0.25", avg_price: "64000.5" });
  });

  it.each([
    ["qty zero", { qty: "0" }, "invalid_plan:qty"],
    ["LIMIT without price", { type: "LIMIT" }, "invalid_plan:price"],
    ["MARKET with no reference price", { symbol: "NOPRICEUSDT" }, "limit:no_reference_price"],
  ])("refuses %s before anything is filled", (_name, over, error) => {
    const d = decide(planEntry(planObject(over)));
    expect(d.result).toMatchObject({ decision: "DENIED", error, executed: false });
    expect(d.result).toMatchObject({ fill_qty: null, avg_price: null });
    expect(d.effects.setPosition).toBeUndefined();
  });

  it.each([
    ["opens a position", "0", "BUY"],
    ["grows a long", "1", "BUY"],
    ["flips a long", "0.1", "SELL"],
  ])(
    "refuses a reduce_only order that %s: FAILED, venue_error:reduce_only_rejected, nothing filled",
    (_n, held, side) => {
      const facts = makeFacts({ positions: [{ symbol: "BTCUSDT", qty: held }] });
      const d = decide(
        planEntry(planObject({ source: EXIT_OWNER, qty: "0.25", side, reduce_only: true })),
        makePolicy(),
        facts,
      );
      expect(d.result).toMatchObject({
        decision: "FAILED",
        error: "venue_error:reduce_only_rejected",
        executed: false,
      });
      expect(d.result).toMatchObject({ fill_qty: null, avg_price: null });
      expect(d.effects.setPosition).toBeUndefined();
      expect(d.checks.position).toEqual({
        account: "default",
        symbol: "BTCUSDT",
        ...PAPER_BOOK,
        expected: held,
      });
    },
  );

  it("fills a reduce_only order that shrinks the position, down to flat", () => {
    const facts = makeFacts({ positions: [{ symbol: "BTCUSDT", qty: "0.25" }] });
    const d = decide(
      planEntry(planObject({ source: EXIT_OWNER, qty: "0.25", side: "SELL", reduce_only: true })),
      makePolicy(),
      facts,
    );
    expect(d.result.decision).toBe("EXECUTED");
    expect(d.effects.setPosition).toEqual({
      account: "default",
      symbol: "BTCUSDT",
      ...PAPER_BOOK,
      value: "0",
    });
  });
});

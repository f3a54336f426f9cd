import { describe, expect, it } from "vitest";
import { liveWorkingOrder } from "../../test/support/coreFixtures.js";
import { positionKey } from "./facts.js";
import { liveBook, liveFillMove, withLiveFills } from "./liveFill.js";
import type { OrderUpdate } from "./orderUpdate.js";
import type { WorkingOrder } from "./workingOrder.js";

const book = { account: "acct-1", symbol: "BTCUSDT", venue: "binance-usdm", mode: "live" } as const;

const order = liveWorkingOrder;
const updateTo = (o: WorkingOrder, fill: string): OrderUpdate => ({
  key: o.key,
  expected: "stored text",
  next: null,
  event: { fill_qty: fill } as OrderUpdate["event"],
});

describe("liveFillMove", () => {
  it.each([
    ["a BUY filled from flat", "BUY", "0", "0.25", "0", "0.25"],
    ["a SELL filled from flat goes short", "SELL", "0", "0.25", "0", "-0.25"],
    ["only what filled since the last look", "BUY", "0.25", "0.4", "1", "1.15"],
    ["a SELL closing a long exactly is flat", "SELL", "0", "2", "2", "0"],
  ] as const)("%s", (_n, side, filledBefore, filledNow, positionText, value) => {
    expect(liveFillMove({ book, side, filledBefore, filledNow, positionText })).toEqual({
      ...book,
      expected: positionText,
      value,
    });
  });

  it("nothing more filled (or a smaller fill reported) moves nothing", () => {
    expect(
      liveFillMove({ book, side: "BUY", filledBefore: "0.5", filledNow: "0.5", positionText: "1" }),
    ).toBeUndefined();
    expect(
      liveFillMove({ book, side: "BUY", filledBefore: "0.5", filledNow: "0.4", positionText: "1" }),
    ).toBeUndefined();
  });

  it("a stored position or fill that is not a decimal throws, naming the book: never moved on a guess", () => {
    expect(() =>
      liveFillMove({ book, side: "BUY", filledBefore: "0", filledNow: "1", positionText: "1e3" }),
    ).toThrow(/binance-usdm live position of acct-1 in BTCUSDT "1e3" is not a decimal/);
    expect(() =>
      liveFillMove({ book, side: "BUY", filledBefore: "x", filledNow: "1", positionText: "0" }),
    ).toThrow(/fill before/);
  });
});

describe("withLiveFills", () => {
  it("chains the moves of one book in order; other books and paper orders apart", () => {
    const o1 = order({ key: "k1" });
    const o2 = order({ key: "k2", side: "SELL", fill_qty: "0.1" });
    const o3 = order({ key: "k3", symbol: "ETHUSDT" });
    const paper = order({ key: "k4", mode: "paper" });
    const eth = positionKey(liveBook(o3));
    const out = withLiveFills(
      [
        { order: o1, update: updateTo(o1, "0.5") },
        { order: o2, update: updateTo(o2, "0.3") },
        { order: o3, update: updateTo(o3, "2") },
        { order: paper, update: updateTo(paper, "1") },
      ],
      new Map([[eth, "-1"]]),
    );
    expect(out.map((u) => u.position && [u.position.symbol, u.position.expected, u.position.value])).toEqual([
      ["BTCUSDT", "0", "0.5"],
      ["BTCUSDT", "0.5", "0.3"],
      ["ETHUSDT", "-1", "1"],
      undefined,
    ]);
  });
});

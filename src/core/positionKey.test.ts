import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PositionRef, parsePositionKey, positionKey } from "./facts.js";
import { VENUES } from "./plan.js";

describe("positionKey / parsePositionKey", () => {
  it("the paper venue's book keeps the field it always had; every other book names venue and mode", () => {
    expect(positionKey({ account: "a", symbol: "S", venue: "paper", mode: "paper" })).toBe('["a","S"]');
    expect(positionKey({ account: "a", symbol: "S", venue: "binance-usdm", mode: "paper" })).toBe(
      '["a","S","binance-usdm","paper"]',
    );
    expect(positionKey({ account: "a", symbol: "S", venue: "polymarket", mode: "live" })).toBe(
      '["a","S","polymarket","live"]',
    );
  });

  it("is the JSON of its parts whatever the symbol holds (keys are cached: a `:` in a symbol is no separator)", () => {
    for (const symbol of ["a:b", ":", "live:x", "polymarket:live:S"]) {
      const r: PositionRef = { account: "acct:1", symbol, venue: "polymarket", mode: "live" };
      expect(positionKey(r)).toBe(JSON.stringify(["acct:1", symbol, "polymarket", "live"]));
      expect(positionKey({ ...r, venue: "paper", mode: "paper" })).toBe(JSON.stringify(["acct:1", symbol]));
    }
  });

  it("reads back every key it writes, for any account and symbol (property)", () => {
    const ref = fc.record({
      account: fc.string(),
      symbol: fc.string(),
      venue: fc.constantFrom(...VENUES),
      mode: fc.constantFrom("paper" as const, "live" as const),
    });
    fc.assert(
      fc.property(ref, (r: PositionRef) => {
        expect(parsePositionKey(positionKey(r))).toEqual(r);
      }),
    );
  });

  it.each([
    ["not JSON", "acct/BTCUSDT"],
    ["one element", '["a"]'],
    ["three elements", '["a","S","binance-usdm"]'],
    ["an unknown venue", '["a","S","kraken","live"]'],
    ["an unknown mode", '["a","S","binance-usdm","dry"]'],
    ["the paper book spelled long (one spelling per book)", '["a","S","paper","paper"]'],
    ["a number for a name", '["a",1]'],
  ])("a field that is not a position's is none: %s", (_why, field) => {
    expect(parsePositionKey(field)).toBeUndefined();
  });
});

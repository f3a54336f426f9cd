import { describe, expect, it } from "vitest";
import {
  dec,
  decide,
  makeFacts,
  makePolicy,
  planEntry,
  planObject,
} from "../../../test/support/coreFixtures.js";

/** A policy whose `max_qty` map is `caps` (symbol → decimal text). */
function policyWith(caps: Record<string, string>) {
  const p = makePolicy();
  return {
    ...p,
    limits: { ...p.limits, maxQty: new Map(Object.entries(caps).map(([s, q]) => [s, dec(q)])) },
  };
}

const errorFor = (caps: Record<string, string>, plan: Record<string, unknown>) =>
  decide(planEntry(planObject(plan)), policyWith(caps), makeFacts()).result.error;

describe("limit:max_qty (limits.max_qty, per symbol, * for the rest)", () => {
  it.each([
    ["the symbol's own cap, at it", { BTCUSDT: "2" }, "BTCUSDT", "2", null],
    ["the symbol's own cap, above it", { BTCUSDT: "2" }, "BTCUSDT", "2.000000000000000001", "limit:max_qty"],
    ["* caps a symbol the map does not name", { BTCUSDT: "2", "*": "1" }, "ETHUSDT", "1.5", "limit:max_qty"],
    ["* at its edge", { "*": "1" }, "ETHUSDT", "1", null],
    ["the symbol's own cap wins over *", { BTCUSDT: "2", "*": "1" }, "BTCUSDT", "1.5", null],
    ["a symbol neither names nor * covers is not capped", { BTCUSDT: "2" }, "ETHUSDT", "5", null],
  ])("%s", (_n, caps, symbol, qty, error) => {
    expect(errorFor(caps, { symbol, qty })).toBe(error);
  });
});

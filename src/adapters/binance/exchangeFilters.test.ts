import { describe, expect, it } from "vitest";
import type { VenueOrder } from "../../ports/venue.js";
import { checkOrderRules, parseExchangeInfo } from "./exchangeFilters.js";

const INFO = JSON.stringify({
  symbols: [
    {
      symbol: "BTCUSDT",
      status: "TRADING",
      pricePrecision: 2,
      quantityPrecision: 3,
      filters: [
        { filterType: "PRICE_FILTER", minPrice: "261.10", maxPrice: "809484", tickSize: "0.10" },
        { filterType: "LOT_SIZE", stepSize: "0.001", maxQty: "1000", minQty: "0.001" },
        { filterType: "MARKET_LOT_SIZE", stepSize: "0.001", maxQty: "120", minQty: "0.001" },
        { filterType: "MAX_NUM_ORDERS", limit: 200 },
        { filterType: "MIN_NOTIONAL", notional: "100" },
      ],
    },
    { symbol: "OLDUSDT", status: "SETTLING", filters: [] },
    {
      symbol: "BADUSDT",
      status: "TRADING",
      filters: [{ filterType: "LOT_SIZE", stepSize: 1, maxQty: "1", minQty: "1" }],
    },
  ],
});

const base: VenueOrder = {
  account: "a",
  symbol: "BTCUSDT",
  side: "BUY",
  type: "MARKET",
  qty: "0.01",
  price: undefined,
  referencePrice: "65000",
  reduceOnly: false,
  clientOrderId: "ig-1",
};

describe("exchangeFilters", () => {
  const rules = parseExchangeInfo(INFO)!;

  it("parses exchangeInfo; a symbol with malformed filters is dropped; a non-exchangeInfo body is undefined", () => {
    expect([...rules.keys()]).toEqual(["BTCUSDT", "OLDUSDT"]);
    expect(parseExchangeInfo("{}")).toBeUndefined();
    expect(parseExchangeInfo("nope")).toBeUndefined();
  });

  it.each<[string, Partial<VenueOrder>, string | undefined]>([
    ["a valid MARKET", {}, undefined],
    ["a valid LIMIT", { type: "LIMIT", price: "64000.1" }, undefined],
    ["MARKET at the max", { qty: "120" }, undefined],
    ["MARKET over MARKET_LOT_SIZE max", { qty: "120.001" }, "invalid_plan:market_lot_size"],
    [
      "LIMIT over MARKET_LOT_SIZE max but within LOT_SIZE",
      { type: "LIMIT", price: "64000", qty: "500" },
      undefined,
    ],
    ["LIMIT below LOT_SIZE min", { type: "LIMIT", price: "64000", qty: "0.0005" }, "invalid_plan:lot_size"],
    ["MARKET more precise than quantityPrecision", { qty: "0.0101" }, "invalid_plan:market_lot_size"],
    ["price off the tick", { type: "LIMIT", price: "64000.15" }, "invalid_plan:price_filter"],
    [
      "price more precise than pricePrecision",
      { type: "LIMIT", price: "64000.101" },
      "invalid_plan:price_filter",
    ],
    ["price above max", { type: "LIMIT", price: "809484.1" }, "invalid_plan:price_filter"],
    ["LIMIT without price", { type: "LIMIT" }, "invalid_plan:price"],
    ["MARKET with a price", { price: "1" }, "invalid_plan:price"],
    ["qty zero", { qty: "0" }, "invalid_plan:qty"],
    ["notional just below", { qty: "0.001", referencePrice: "99999.9" }, "limit:min_notional"],
    ["notional exactly at", { qty: "0.001", referencePrice: "100000" }, undefined],
    [
      "LIMIT notional uses its own price",
      { type: "LIMIT", price: "64000", qty: "0.001", referencePrice: "999999" },
      "limit:min_notional",
    ],
    ["reduce-only is exempt from MIN_NOTIONAL", { qty: "0.001", reduceOnly: true }, undefined],
    [
      "reduce-only MARKET without reference price",
      { qty: "0.001", reduceOnly: true, referencePrice: undefined },
      undefined,
    ],
    ["MARKET without reference price", { referencePrice: undefined }, "limit:no_reference_price"],
    ["symbol not listed", { symbol: "XYZUSDT" }, "invalid_plan:unknown_symbol"],
    ["symbol not trading", { symbol: "OLDUSDT" }, "invalid_plan:symbol_not_trading"],
  ])("%s", (_name, change, expected) => {
    const refusal = checkOrderRules(rules, { ...base, ...change });
    expect(refusal?.reason).toBe(expected);
    if (refusal) expect(refusal.decision).toBe("DENIED");
  });
});

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { parseUnits } from "viem";
import { describe, expect, it } from "vitest";
import { type Decimal, parseDecimal } from "../../core/decimal.js";
import type { OrderSide } from "../../core/polymarket/ctfOrder.js";
import { type ClobOrderType, checkOrder, type MarketRules } from "./orderRules.js";

/** {@link checkOrder} with the order's fields in a row, for the tables below. */
const check = (
  side: OrderSide,
  qty: Decimal,
  price: Decimal,
  rules: MarketRules,
  orderType: ClobOrderType,
): ReturnType<typeof checkOrder> => checkOrder({ side, qty, price, orderType }, rules);

const d = (s: string): Decimal => parseDecimal(s)!;
const rules = (tick: string, min = "5", negRisk = false): MarketRules => ({
  tickSize: d(tick),
  minOrderSize: d(min),
  negRisk,
});

const pkg = createRequire(import.meta.url).resolve("@polymarket/clob-client-v2");
const pkgModule = async (relative: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(join(dirname(pkg), relative)).href)) as Record<string, unknown>;

describe("checkOrder", () => {
  it("computes exact 6-decimal amounts: a BUY pays USDC for shares, a SELL the reverse", () => {
    expect(check("BUY", d("10"), d("0.57"), rules("0.01"), "GTC")).toEqual({
      ok: true,
      amounts: {
        makerAmount: 5_700_000n,
        takerAmount: 10_000_000n,
        shareUnits: 10_000_000n,
        usdcUnits: 5_700_000n,
      },
    });
    expect(check("SELL", d("33.33"), d("0.0123"), rules("0.0001", "1"), "GTC")).toEqual({
      ok: true,
      amounts: {
        makerAmount: 33_330_000n,
        takerAmount: 409_959n,
        shareUnits: 33_330_000n,
        usdcUnits: 409_959n,
      },
    });
  });

  const refusals: Array<[string, Parameters<typeof check>, string]> = [
    ["3-decimal size", ["BUY", d("10.001"), d("0.5"), rules("0.01"), "GTC"], "invalid_plan:lot_size"],
    ["off the tick", ["BUY", d("10"), d("0.505"), rules("0.01"), "GTC"], "invalid_plan:tick_size"],
    ["off a 0.005 tick", ["BUY", d("10"), d("0.502"), rules("0.005"), "GTC"], "invalid_plan:tick_size"],
    ["above 1 − tick", ["SELL", d("10"), d("1"), rules("0.01"), "GTC"], "invalid_plan:price_range"],
    ["zero price", ["SELL", d("10"), d("0"), rules("0.01"), "GTC"], "invalid_plan:price_range"],
    ["under the minimum size", ["BUY", d("4.99"), d("0.5"), rules("0.01"), "GTC"], "invalid_plan:min_size"],
    [
      "FOK BUY with 4-decimal USDC",
      ["BUY", d("10.55"), d("0.57"), rules("0.01"), "FOK"],
      "invalid_plan:amount_precision",
    ],
    [
      "FOK SELL with 5-decimal USDC",
      ["SELL", d("10.55"), d("0.571"), rules("0.001"), "FOK"],
      "invalid_plan:amount_precision",
    ],
    ["FOK BUY under $1", ["BUY", d("5"), d("0.19"), rules("0.01"), "FOK"], "limit:min_notional"],
  ];
  it.each(refusals)("refuses %s", (_n, args, reason) => {
    expect(check(...args)).toEqual({ ok: false, reason });
  });

  it("the same size and price are fine as GTC where FOK refuses them", () => {
    expect(check("BUY", d("10.55"), d("0.57"), rules("0.01"), "GTC").ok).toBe(true);
    expect(check("SELL", d("5"), d("0.19"), rules("0.01"), "FOK").ok).toBe(true);
  });

  it("equals clob-client-v2's getOrderRawAmounts for every on-grid price and size", async () => {
    const { getOrderRawAmounts } = await pkgModule("order-builder/helpers/getOrderRawAmounts.js");
    const { ROUNDING_CONFIG } = (await pkgModule("order-builder/helpers/roundingConfig.js")) as {
      ROUNDING_CONFIG: Record<string, { price: number; size: number; amount: number }>;
    };
    const raw = getOrderRawAmounts as (
      side: string,
      size: number,
      price: number,
      cfg: unknown,
    ) => { rawMakerAmt: number; rawTakerAmt: number };
    const ticks = Object.keys(ROUNDING_CONFIG);
    fc.assert(
      fc.property(
        fc.constantFrom(...ticks),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.integer({ min: 100, max: 10_000_000 }),
        fc.constantFrom("BUY" as const, "SELL" as const),
        (tick, where, cents, side) => {
          const steps = Math.round(1 / Number(tick));
          const k = 1 + Math.floor(where * (steps - 1));
          const price = (d(tick) * BigInt(k)) as Decimal;
          const priceText = (Number(k) * Number(tick)).toFixed(ROUNDING_CONFIG[tick]!.price);
          expect(parseDecimal(priceText)).toBe(price);
          const sizeText = (cents / 100).toFixed(2);
          const ours = check(side, d(sizeText), price, rules(tick, "0"), "GTC");
          if (!ours.ok) throw new Error(ours.reason);
          const theirs = raw(side, Number(sizeText), Number(priceText), ROUNDING_CONFIG[tick]);
          expect(ours.amounts.makerAmount).toBe(parseUnits(theirs.rawMakerAmt.toString(), 6));
          expect(ours.amounts.takerAmount).toBe(parseUnits(theirs.rawTakerAmt.toString(), 6));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

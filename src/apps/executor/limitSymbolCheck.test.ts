import { describe, expect, it } from "vitest";
import { validateConfigText } from "../../config/loadConfig.js";
import type { VenueName } from "../../core/plan.js";
import { type LivePrice, livePriceKey } from "../../core/referencePrice.js";
import { warnLimitsNamingNothing } from "./limitSymbolCheck.js";

async function configOf(over: Record<string, unknown>) {
  return validateConfigText(JSON.stringify({ bus: "sqlite:/tmp/x.db", ...over }), "json", "/tmp");
}

const price: LivePrice = { price: 1n, at: 0, kind: "mark" } as LivePrice;

/** The warn lines' paths, and whether the check was skipped. */
async function run(opts: {
  config: Record<string, unknown>;
  venues?: VenueName[];
  live?: Array<[VenueName, string]>;
}): Promise<{ warned: string[]; skipped: boolean }> {
  const warned: string[] = [];
  let skipped = false;
  warnLimitsNamingNothing({
    config: await configOf(opts.config),
    venues: opts.venues ?? [],
    prices: new Map((opts.live ?? []).map(([v, s]) => [livePriceKey(v, s), price])),
    logger: {
      warn: ((fields: { limit: string; symbol: string }, msg: string) => {
        expect(msg).toContain(`limits.${fields.limit}.${fields.symbol}`);
        warned.push(`${fields.limit}.${fields.symbol}`);
      }) as never,
      debug: (() => {
        skipped = true;
      }) as never,
    },
  });
  return { warned, skipped };
}

describe("per-symbol limits that name no listed symbol (an operator's typo leaves the real symbol uncapped)", () => {
  it("warns about each key of max_qty, price_band_pct and max_position that no venue lists; never about *", async () => {
    const out = await run({
      config: {
        venues: { paper: { prices: { BTCUSDT: "65000" } } },
        limits: {
          max_qty: { BTCUSDT: "1", BTCUSTD: "1" },
          price_band_pct: { "*": "5", ETHUSDT: "2" },
          max_position: { BTCUSDT: "10", XBTUSDT: "3" },
        },
      },
    });
    expect(out.warned).toEqual(["max_qty.BTCUSTD", "price_band_pct.ETHUSDT", "max_position.XBTUSDT"]);
  });

  it("knows Polymarket's markets and what a live venue's prices returned", async () => {
    const out = await run({
      config: {
        venues: {
          polymarket: { base_url: "http://127.0.0.1:1", markets: ["123"], accounts: {} },
          "binance-usdm": { base_url: "http://127.0.0.1:1", accounts: {} },
        },
        limits: { max_position: { "123": "5", ETHUSDT: "1", ETHUSTD: "1", "124": "1" } },
      },
      venues: ["binance-usdm", "polymarket"],
      live: [["binance-usdm", "ETHUSDT"]],
    });
    expect(out.warned).toEqual(["max_position.124", "max_position.ETHUSTD"]);
  });

  it("is skipped while a configured Binance venue has returned no prices (its symbols are unknown)", async () => {
    const out = await run({
      config: {
        venues: { "binance-usdm": { base_url: "http://127.0.0.1:1", accounts: {} } },
        limits: { max_qty: { ANYTHING: "1" } },
      },
      venues: ["binance-usdm"],
    });
    expect(out).toEqual({ warned: [], skipped: true });
  });

  it("says nothing when every key names a listed symbol", async () => {
    const out = await run({
      config: {
        venues: { paper: { prices: { BTCUSDT: "65000" } } },
        limits: { max_qty: { BTCUSDT: "1" }, max_position: { "*": "1" } },
      },
    });
    expect(out).toEqual({ warned: [], skipped: false });
  });
});

import { describe, expect, it } from "vitest";
import { type Decimal, parseDecimal } from "../core/decimal.js";
import { parseSignerConfig } from "./signerConfig.js";
import {
  checkStatelessPolicy,
  compilePolicies,
  type IntentPolicy,
  RateLimiter,
  rateClaim,
} from "./signerPolicy.js";

const d = (s: string): Decimal => parseDecimal(s)!;
const policy: IntentPolicy = { maxNotional: d("1000"), symbols: new Set(["BTCUSDT"]), ratePerAccountPerS: 2 };

describe("stateless signer limits", () => {
  it.each([
    ["at the limit", { placesOrder: true, symbol: "BTCUSDT", notional: d("1000") }, undefined],
    [
      "1e-18 over",
      { placesOrder: true, symbol: "BTCUSDT", notional: d("1000.000000000000000001") },
      "policy:max_notional",
    ],
    ["unknown notional", { placesOrder: true, symbol: "BTCUSDT" }, "policy:max_notional"],
    ["another symbol", { placesOrder: true, symbol: "ETHUSDT", notional: d("1") }, "policy:symbols"],
    ["no symbol", { placesOrder: true, notional: d("1") }, "policy:symbols"],
    [
      "both (notional first)",
      { placesOrder: true, symbol: "ETHUSDT", notional: d("5000") },
      "policy:max_notional",
    ],
    ["a query", { placesOrder: false, symbol: "ETHUSDT" }, undefined],
  ] as const)("%s → %s", (_what, effect, reason) => {
    expect(checkStatelessPolicy(policy, effect)).toBe(reason);
  });

  it("no policy, or a policy without limits, passes", () => {
    expect(checkStatelessPolicy(undefined, { placesOrder: true })).toBeUndefined();
    const none: IntentPolicy = { maxNotional: undefined, symbols: undefined, ratePerAccountPerS: undefined };
    expect(checkStatelessPolicy(none, { placesOrder: true })).toBeUndefined();
  });

  it("compiles the config's policy", () => {
    const c = parseSignerConfig({
      vault: { path: "v", passphrase_env: "P" },
      audit: { path: "a" },
      intents: { cex_api_signer: { routes: ["r"] } },
      policy: { cex_api_signer: { max_notional: "0.5", symbols: ["X"] } },
    });
    const p = compilePolicies(c).get("cex_api_signer");
    expect(p?.maxNotional).toBe(d("0.5"));
    expect([...(p?.symbols ?? [])]).toEqual(["X"]);
    expect(p?.ratePerAccountPerS).toBeUndefined();
  });
});

describe("rate limiter", () => {
  it("allows `limit` grants in any 1000 ms window per account and intent", () => {
    const r = new RateLimiter();
    const a = rateClaim(policy, "acct1", "cex_api_signer", { placesOrder: true })!;
    const b = rateClaim(policy, "acct2", "cex_api_signer", { placesOrder: true })!;
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

  it("no claim for queries or without a rate limit", () => {
    expect(rateClaim(policy, "a", "cex_api_signer", { placesOrder: false })).toBeUndefined();
    expect(rateClaim(undefined, "a", "cex_api_signer", { placesOrder: true })).toBeUndefined();
  });

  it("forgets idle windows", () => {
    const r = new RateLimiter();
    for (let i = 0; i < 5000; i++) r.tryRecord({ key: `k${i}`, limit: 1 }, i * 10);
    expect(r.tryRecord({ key: "k4999", limit: 1 }, 49_995)).toBe(false);
    expect(r.tryRecord({ key: "k0", limit: 1 }, 49_995)).toBe(true);
  });
});

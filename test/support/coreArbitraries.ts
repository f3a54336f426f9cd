/**
 * fast-check arbitraries shared by the core's property tests: policies and
 * facts that vary what the later gates see, and valid plan objects.
 */
import fc from "fast-check";
import type { TradingState } from "../../src/core/plan.js";
import { BRIDGE, EXIT_OWNER, makeFacts, makePolicy, NOW } from "./coreFixtures.js";

/** Policies and facts that vary what the later gates see. */
export const world = fc
  .record({
    requireAuth: fc.boolean(),
    permitsRequired: fc.boolean(),
    live: fc.boolean(),
    exitOwner: fc.option(fc.constantFrom(EXIT_OWNER, BRIDGE), { nil: undefined }),
    tradingState: fc.constantFrom<TradingState>("ACTIVE", "REDUCING", "HALTED"),
    position: fc.option(fc.constantFrom("1", "-1", "0.5", "-2.25", "10"), { nil: undefined }),
    rate: fc.nat({ max: 250 }),
    claimed: fc.array(fc.constantFrom("p-1", "p-2", "p-3"), { maxLength: 2 }),
  })
  .map((w) => ({
    policy: makePolicy({
      requireAuth: w.requireAuth,
      live: w.live,
      exitOwner: w.exitOwner,
      permits: { required: w.permitsRequired, issuers: new Set(["governor-k1", "governor-hmac"]) },
    }),
    facts: makeFacts({
      tradingState: w.tradingState,
      claimedPlanIds: w.claimed,
      rates: { [BRIDGE]: w.rate, [EXIT_OWNER]: w.rate },
      positions: w.position === undefined ? [] : [{ symbol: "BTCUSDT", qty: w.position }],
    }),
  }));

export const decimalText = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.option(fc.stringMatching(/^[0-9]{1,6}[1-9]$/), { nil: undefined }),
  )
  .map(([i, f]) => (f === undefined ? String(i) : `${i}.${f}`))
  .filter((t) => t !== "0");

/** Valid plan objects (wire-v1 §3) over the fixture's sources and symbols. */
export const validPlan = fc
  .record({
    plan_id: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
    source: fc.constantFrom(BRIDGE, EXIT_OWNER),
    live: fc.boolean(),
    symbol: fc.constantFrom("BTCUSDT", "ETHUSDT", "SOLUSDT"),
    side: fc.constantFrom("BUY", "SELL"),
    limit: fc.option(decimalText, { nil: undefined }),
    qty: fc.oneof(decimalText, fc.constantFrom(0.5, 1, 2, 0.001)),
    reduce_only: fc.option(fc.boolean(), { nil: undefined }),
    age: fc.integer({ min: -4000, max: 20_000 }),
    expires: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
    kelly: fc.option(fc.double({ min: 0, max: 0.25, noNaN: true }), { nil: undefined }),
  })
  .map((p) => {
    const plan: Record<string, unknown> = {
      v: 1,
      plan_id: p.plan_id,
      source: p.source,
      venue: p.live ? "binance-usdm" : "paper",
      symbol: p.symbol,
      side: p.side,
      qty: p.qty,
      created_at: NOW - p.age,
    };
    if (p.live) plan.account = "acct-1";
    if (p.limit !== undefined) Object.assign(plan, { type: "LIMIT", price: p.limit });
    if (p.reduce_only !== undefined) plan.reduce_only = p.reduce_only;
    if (p.expires !== undefined) plan.expires_at = NOW + p.expires;
    if (p.kelly !== undefined) plan.meta = { kelly_fraction: p.kelly };
    return plan;
  });

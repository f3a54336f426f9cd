import { describe, expect, it } from "vitest";
import { decide, makeFacts, makePolicy, planEntry, planObject } from "../../../test/support/coreFixtures.js";
import type { VenueName } from "../plan.js";
import type { Policy } from "../policy.js";

const binance = (over: Record<string, unknown> = {}) =>
  planEntry(planObject({ venue: "binance-usdm", account: "acct-1", ...over }));
const ready = new Map<VenueName, ReadonlySet<string>>([["binance-usdm", new Set(["*"])]]);

/** Every combination of the live guard's three conditions (issue: live guard). */
const cases: Array<{ live: boolean; env: boolean; ready: boolean }> = [];
for (const live of [false, true])
  for (const env of [false, true]) for (const r of [false, true]) cases.push({ live, env, ready: r });

describe("live guard (gate 10): live only with config live AND INTENTGATE_LIVE=1 AND the venue ready", () => {
  for (const c of cases) {
    const goesLive = c.live && c.env && c.ready;
    const policy: Policy = makePolicy({
      live: c.live,
      liveEnv: c.env,
      readyVenues: c.ready ? ready : new Map(),
    });
    it(`live=${c.live} env=${c.env} ready=${c.ready} → ${goesLive ? "live" : "paper"}`, () => {
      const d = decide(binance(), policy);
      expect(d.result.error).toBeNull();
      expect(d.result.mode).toBe(goesLive ? "live" : "paper");
      expect(d.live !== undefined).toBe(goesLive);
      // a live order never touches the paper position
      expect(d.effects.setPosition === undefined).toBe(goesLive);
    });
    it(`live=${c.live} env=${c.env} ready=${c.ready}, live_fallback deny → ${goesLive ? "live" : "denied"}`, () => {
      const d = decide(binance(), { ...policy, liveFallback: "deny" });
      if (goesLive) expect(d.live).toBeDefined();
      else {
        expect(d.result.decision).toBe("DENIED");
        expect(d.result.error).toBe("venue_not_enabled:binance-usdm");
        expect(d.live).toBeUndefined();
      }
    });
  }

  it("the live order carries the plan's order and the guard context the signer is told", () => {
    const plan = planObject({
      venue: "binance-usdm",
      account: "acct-1",
      type: "LIMIT",
      price: "64000.5",
      qty: "0.25",
      side: "SELL",
    });
    const entry = planEntry(plan);
    const d = decide(entry, makePolicy({ live: true, liveEnv: true, readyVenues: ready }), makeFacts());
    expect(d.live).toEqual({
      venue: "binance-usdm",
      order: {
        account: "acct-1",
        symbol: "BTCUSDT",
        side: "SELL",
        type: "LIMIT",
        qty: "0.25",
        price: "64000.5",
        referencePrice: "65000",
        reduceOnly: false,
        clientOrderId: `ig-${plan.plan_id}`,
      },
      guard: {
        plan_id: plan.plan_id,
        source: plan.source,
        decision: "EXECUTE",
        trading_state: "ACTIVE",
        permit_id: null,
        mode: "live",
        lane: entry.lane,
        stream_id: entry.id,
      },
    });
    expect(d.effects.claimPlanId).toBe(plan.plan_id);
  });

  it("readiness is per account: only accounts whose credentials work go live", () => {
    const policy = makePolicy({
      live: true,
      liveEnv: true,
      readyVenues: new Map([["binance-usdm", new Set(["acct-ok"])]]),
    });
    expect(decide(binance({ account: "acct-ok" }), policy).result.mode).toBe("live");
    expect(decide(binance({ account: "acct-bad" }), policy).result.mode).toBe("paper");
  });

  it("a denied live-venue plan carries no live order", () => {
    const d = decide(
      binance(),
      makePolicy({ live: true, liveEnv: true, readyVenues: ready }),
      makeFacts({ tradingState: "HALTED" }),
    );
    expect(d.result.error).toBe("trading_halted");
    expect(d.live).toBeUndefined();
  });
});

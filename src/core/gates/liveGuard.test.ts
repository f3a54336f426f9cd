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
    // With live: true a plan that cannot go live is denied venue_not_ready, never filled on paper;
    // live_fallback applies only to a dry run (live: false).
    const expected = goesLive ? "live" : c.live ? "venue_not_ready" : "paper";
    for (const fallback of ["paper", "deny"] as const) {
      const want = expected === "paper" && fallback === "deny" ? "venue_not_enabled" : expected;
      it(`live=${c.live} env=${c.env} ready=${c.ready}, live_fallback ${fallback} → ${want}`, () => {
        const d = decide(binance(), { ...policy, liveFallback: fallback });
        if (want === "live" || want === "paper") {
          expect(d.result.error).toBeNull();
          expect(d.result.mode).toBe(want);
          expect(d.live !== undefined).toBe(want === "live");
          // a live order never touches the paper position
          expect(d.effects.setPosition === undefined).toBe(want === "live");
        } else {
          expect(d.result.decision).toBe("DENIED");
          expect(d.result.executed).toBe(false);
          expect(d.result.error).toBe(`${want}:binance-usdm`);
          expect(d.live).toBeUndefined();
          expect(d.effects.setPosition).toBeUndefined();
        }
      });
    }
  }

  it("venue_not_ready is the same for every live venue (Polymarket too)", () => {
    const policy = makePolicy({
      live: true,
      liveEnv: true,
      readyVenues: new Map(),
      enabledVenues: new Set(["paper", "binance-usdm", "polymarket"]),
    });
    const d = decide(planEntry(planObject({ venue: "polymarket", account: "acct-1" })), policy);
    expect(d.result).toMatchObject({ decision: "DENIED", error: "venue_not_ready:polymarket", mode: "live" });
  });

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
    expect(d.live).toMatchObject({
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
    // A LIMIT carries the working order it leaves if it rests (followed after its result, wire-v1 §4a).
    expect(d.live?.working).toEqual({
      key: plan.plan_id,
      plan_id: plan.plan_id,
      source: plan.source,
      lane: entry.lane,
      stream_id: entry.id,
      venue: "binance-usdm",
      mode: "live",
      account: "acct-1",
      symbol: "BTCUSDT",
      side: "SELL",
      qty: "0.25",
      price: "64000.5",
      reduce_only: false,
      client_order_id: `ig-${plan.plan_id}`,
      order_id: "",
      fill_qty: "0",
      placed_at: d.result.timestamp,
    });
    expect(Object.keys(d.live ?? {}).sort()).toEqual(["guard", "order", "venue", "working"]);
  });

  it("readiness is per account: only accounts whose credentials work go live", () => {
    const policy = makePolicy({
      live: true,
      liveEnv: true,
      readyVenues: new Map([["binance-usdm", new Set(["acct-ok"])]]),
    });
    expect(decide(binance({ account: "acct-ok" }), policy).result.mode).toBe("live");
    expect(decide(binance({ account: "acct-bad" }), policy).result).toMatchObject({
      decision: "DENIED",
      error: "venue_not_ready:binance-usdm",
    });
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

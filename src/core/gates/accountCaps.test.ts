import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dec,
  decide,
  EXIT_OWNER,
  makeFacts,
  makePolicy,
  NOW,
  planEntry,
  planObject,
} from "../../../test/support/coreFixtures.js";
import { dailyKey, utcDay } from "../dailyNotional.js";
import { classifyEntry, decideEntry, factsQueryFor } from "../decide.js";
import { type Decimal, formatDecimal, mulDecimalUp, parseDecimal } from "../decimal.js";
import { FactsOverlay } from "../factsOverlay.js";
import type { Limits } from "../policy.js";

const DAY = utcDay(NOW);
const policyWith = (over: Partial<Limits>) => {
  const p = makePolicy();
  return { ...p, limits: { ...p.limits, ...over } };
};
const daily = (account: string, text: string) => ({ [dailyKey({ account, day: DAY })]: text });

describe("limit:daily_notional (limits.max_daily_notional)", () => {
  // BTCUSDT's reference price is 65000: 1 BTC is 65000 of notional.
  const policy = policyWith({
    maxDailyNotional: new Map([
      ["*", dec("100000")],
      ["big", dec("1000000")],
    ]),
  });

  it.each([
    ["nothing placed today", undefined, "1", null, "65000"],
    ["up to the cap exactly", "35000", "1", null, "100000"],
    ["1e-18 over the cap", "35000.000000000000000001", "1", "limit:daily_notional", undefined],
    ["far over", "99999", "1", "limit:daily_notional", undefined],
    ["a LIMIT at a price above the reference counts at its own price", "0", "1.5", null, "105000"],
  ])("%s → %s", (_n, before, qty, error, after) => {
    const limit = qty === "1.5";
    const plan = planObject(limit ? { qty: "1", type: "LIMIT", price: "105000" } : { qty });
    const pol = limit
      ? policyWith({
          ...policy.limits,
          maxDailyNotional: new Map([["*", dec("200000")]]),
          maxNotional: undefined,
        })
      : policy;
    const d = decide(
      planEntry(plan),
      pol,
      makeFacts({ dailyNotional: before ? daily("default", before) : {} }),
    );
    expect(d.result.error).toBe(error);
    // both verdicts re-check the total they were decided on
    expect(d.checks.dailyNotional).toEqual({ account: "default", day: DAY, expected: before ?? "0" });
    if (error === null)
      expect(d.effects.setDailyNotional).toEqual({ account: "default", day: DAY, value: after });
    else expect(d.effects.setDailyNotional).toBeUndefined();
  });

  it("caps each account by its own entry, else by `*`; another day starts at zero", () => {
    const facts = makeFacts({ dailyNotional: { ...daily("default", "99000"), ...daily("big", "99000") } });
    expect(decide(planEntry(planObject()), policy, facts).result.error).toBe("limit:daily_notional");
    expect(decide(planEntry(planObject({ account: "big" })), policy, facts).result.error).toBeNull();
    const tomorrow = NOW + 86_400_000;
    const fresh = decide(planEntry(planObject({ created_at: tomorrow - 1000 })), policy, facts, tomorrow);
    expect(fresh.result.error).toBeNull();
    expect(fresh.checks.dailyNotional).toEqual({ account: "default", day: utcDay(tomorrow), expected: "0" });
  });

  it("a reduce-only plan is counted but never refused, and needs no price for it", () => {
    const facts = makeFacts({
      dailyNotional: daily("default", "99999"),
      positions: [{ symbol: "BTCUSDT", qty: "3" }],
    });
    const exit = planObject({ source: EXIT_OWNER, side: "SELL", reduce_only: true, qty: "2" });
    const d = decide(planEntry(exit), policy, facts);
    expect(d.result.error).toBeNull();
    expect(d.effects.setDailyNotional?.value).toBe("229999");
    // without a price (SOLUSDT has one; XRPUSDT none) a reduce-only plan passes uncounted
    const noPrice = policyWith({ ...policy.limits, maxNotional: undefined });
    const unpriced = decide(
      planEntry(
        planObject({
          source: EXIT_OWNER,
          side: "SELL",
          reduce_only: true,
          symbol: "NOPRICE",
          type: "LIMIT",
          price: "1",
        }),
      ),
      noPrice,
      facts,
    );
    expect(unpriced.result.error).not.toBe("limit:daily_notional");
  });

  it("a MARKET plan with no reference price is refused, not counted at a guess", () => {
    const d = decide(
      planEntry(planObject({ symbol: "NOPRICE" })),
      policyWith({ ...policy.limits, maxNotional: undefined }),
    );
    expect(d.result.error).toBe("limit:no_reference_price");
  });

  it("a cancel is never refused by it", () => {
    const cancel = planObject({
      action: "cancel",
      target_plan_id: "nope",
      symbol: undefined,
      side: undefined,
      qty: undefined,
    });
    const d = decide(planEntry(cancel), policy, makeFacts({ dailyNotional: daily("default", "100000") }));
    expect(d.result.error).not.toBe("limit:daily_notional");
  });

  it("mulDecimalUp rounds up to the scale, never down (property)", () => {
    const dec18 = fc.bigInt({ min: 1n, max: 10n ** 30n }).map((n) => n as Decimal);
    fc.assert(
      fc.property(dec18, dec18, (qty, price) => {
        const n = mulDecimalUp(qty, price);
        const scale = 10n ** 18n;
        return n * scale >= qty * price && (n - 1n) * scale < qty * price;
      }),
    );
    expect(formatDecimal(mulDecimalUp(parseDecimal("0.1")!, parseDecimal("0.000000000000000001")!))).toBe(
      "0.000000000000000001",
    );
  });
});

describe("limit:open_orders (limits.max_open_orders)", () => {
  const policy = policyWith({ maxOpenOrders: new Map([["*", 2]]) });

  it.each([
    ["none open", 0, null],
    ["one below the cap", 1, null],
    ["at the cap", 2, "limit:open_orders"],
    ["over the cap (orders placed before it was lowered)", 5, "limit:open_orders"],
  ])("%s → %s, the verdict re-checked at commit", (_n, open, error) => {
    const d = decide(planEntry(planObject()), policy, makeFacts({ openOrders: { default: open } }));
    expect(d.result.error).toBe(error);
    expect(d.checks.openOrders).toEqual({ account: "default", limit: 2, allowed: error === null });
  });

  it("a reduce-only plan is never refused and checks nothing", () => {
    const exit = planObject({ source: EXIT_OWNER, side: "SELL", reduce_only: true });
    const d = decide(
      planEntry(exit),
      policy,
      makeFacts({ openOrders: { default: 9 }, positions: [{ symbol: "BTCUSDT", qty: "3" }] }),
    );
    expect(d.result.error).toBeNull();
    expect(d.checks.openOrders).toBeUndefined();
  });

  it("a corrupt count is an internal error for this entry, never a guess", () => {
    const d = decide(planEntry(planObject()), policy, makeFacts({ openOrders: { default: -1 } }));
    expect(d.result.decision).toBe("FAILED");
    expect(d.result.error).toBe("internal_error");
  });
});

describe("account caps within one batch (FactsOverlay) and the facts asked for", () => {
  const policy = policyWith({
    maxDailyNotional: new Map([["*", dec("100000")]]),
    maxOpenOrders: new Map([["*", 1]]),
  });
  const resting = { ...makePolicy(), paperRestLimits: true, limits: policy.limits };

  it("a batch decides as if committed one by one: the second order sees the first's notional and open order", () => {
    const facts = new FactsOverlay(makeFacts({ openOrders: { default: 0 } }));
    // a LIMIT BUY below the price rests: one open order, 60000 placed
    const decideLimit = (id: string, over: Record<string, unknown>) =>
      decideEntry(
        classifyEntry(planEntry(planObject({ type: "LIMIT", ...over }), { id })),
        resting,
        facts,
        NOW,
      );
    const first = decideLimit("1-1", { price: "60000" });
    expect(first.result.decision).toBe("EXECUTED");
    expect(first.effects.openOrder).toBeDefined();
    facts.apply(first);
    expect(facts.openOrders.get("default")).toBe(1);
    expect(facts.dailyNotional.get(dailyKey({ account: "default", day: DAY }))).toBe("65000");
    const second = decideLimit("1-2", { price: "59000" });
    expect(second.result.error).toBe("limit:daily_notional");
    // refused on the first order's notional: if that order conflicts at commit, so does this refusal
    expect(second.checks.dailyNotional).toEqual({ account: "default", day: DAY, expected: "65000" });
    const third = decideLimit("1-3", { qty: "0.1", price: "59000" });
    expect(third.result.error).toBe("limit:open_orders");
  });

  it("the facts query asks for the caps' reads only when they are set", () => {
    const entries = [classifyEntry(planEntry(planObject({ account: "acct-q" })))];
    const q = factsQueryFor(entries, NOW, { limits: policy.limits });
    expect(q.dailyNotional).toEqual([{ account: "acct-q", day: DAY }]);
    expect(q.openOrderAccounts).toEqual(["acct-q"]);
    const none = factsQueryFor(entries, NOW, { limits: makePolicy().limits });
    expect(none.dailyNotional).toBeUndefined();
    expect(none.openOrderAccounts).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import {
  dec,
  decide,
  EXIT_OWNER,
  type FactsInit,
  liveWorkingOrder,
  makeFacts,
  makePolicy,
  NOW,
  planEntry,
  planObject,
} from "../../../test/support/coreFixtures.js";
import { classifyEntry, decideEntry, factsQueryFor } from "../decide.js";
import { EXPOSURE_IDS, exposureTouches } from "../exposure.js";
import { FactsOverlay } from "../factsOverlay.js";
import type { SendRecord } from "../liveOrder.js";
import type { Limits, Policy } from "../policy.js";
import { precheck } from "../precheck.js";
import { livePriceKey } from "../referencePrice.js";
import { encodeWorkingOrder, type WorkingOrder } from "../workingOrder.js";

const policyWith = (over: Partial<Limits>, rest: Partial<Policy> = {}): Policy => {
  const p = makePolicy(rest);
  return { ...p, limits: { ...p.limits, maxNotional: undefined, ...over } };
};
/** Live on, Binance ready for every account, its mark prices fresh at NOW. */
const LIVE: Partial<Policy> = {
  live: true,
  liveEnv: true,
  readyVenues: new Map([["binance-usdm", new Set(["*"])]]),
};

/** A paper working order of the default account (BTCUSDT BUY 1 at 60000, nothing filled). */
const paperOrder = (over: Partial<WorkingOrder> = {}): WorkingOrder =>
  liveWorkingOrder({ venue: "paper", mode: "paper", account: "default", ...over });
const working = (o: WorkingOrder): [string, string] => [EXPOSURE_IDS.working + o.key, encodeWorkingOrder(o)];

/** A live Binance MARKET order of the default account being sent (`s:`) or open UNKNOWN (`u:`). */
function sendEntry(kind: "s:" | "u:", side: "BUY" | "SELL", qty: string, streamId = "9-1"): [string, string] {
  const record: SendRecord = {
    kind: "order",
    lane: "main",
    streamId,
    startedAt: NOW - 500,
    ref: {
      venue: "binance-usdm",
      account: "default",
      symbol: "BTCUSDT",
      clientOrderId: `ig-${streamId}`,
      venueRef: `ig-${streamId}`,
    },
    result: { side, qty } as SendRecord["result"],
  };
  return [`${kind}main:${streamId}`, JSON.stringify(record)];
}

/** Facts with the default account's exposure read: its positions plus `entries`. */
const withExposure = (init: FactsInit, entries: Array<[string, string]> = []) =>
  makeFacts({ ...init, exposure: { default: entries } });

describe("limit:max_position (limits.max_position)", () => {
  const policy = policyWith({ maxPosition: new Map([["BTCUSDT", dec("3")]]) });
  const pos = (qty: string) => [{ symbol: "BTCUSDT", qty }];

  it.each([
    ["flat, BUY up to the cap exactly", [], [], "BUY", "3", null],
    ["flat, BUY 1e-18 over", [], [], "BUY", "3.000000000000000001", "limit:max_position"],
    ["long 2, BUY 1", pos("2"), [], "BUY", "1", null],
    ["long 2, BUY 1.1", pos("2"), [], "BUY", "1.1", "limit:max_position"],
    [
      "long 2 and a BUY order with 0.5 left: BUY 0.5",
      pos("2"),
      [working(paperOrder({ qty: "1", fill_qty: "0.5" }))],
      "BUY",
      "0.5",
      null,
    ],
    [
      "long 2 and a BUY order with 0.5 left: BUY 0.6",
      pos("2"),
      [working(paperOrder({ qty: "1", fill_qty: "0.5" }))],
      "BUY",
      "0.6",
      "limit:max_position",
    ],
    [
      "long 2 and a SELL order of 5: a BUY counts only BUYs",
      pos("2"),
      [working(paperOrder({ side: "SELL", qty: "5" }))],
      "BUY",
      "1",
      null,
    ],
    ["short 2, SELL 1", pos("-2"), [], "SELL", "1", null],
    ["short 2, SELL 1.1", pos("-2"), [], "SELL", "1.1", "limit:max_position"],
    ["long 10 (over the cap), SELL 1 reduces", pos("10"), [], "SELL", "1", null],
    [
      "long 10 (over the cap), BUY 1e-18 more",
      pos("10"),
      [],
      "BUY",
      "0.000000000000000001",
      "limit:max_position",
    ],
    ["short 10, BUY 5 toward zero", pos("-10"), [], "BUY", "5", null],
    ["short 1, BUY 4.1 past the cap on the long side", pos("-1"), [], "BUY", "4.1", "limit:max_position"],
  ] as const)("%s", (_n, positions, entries, side, qty, error) => {
    const d = decide(
      planEntry(planObject({ side, qty })),
      policy,
      withExposure({ positions: [...positions] }, [...entries]),
    );
    expect(d.result.error).toBe(error);
    // both verdicts carry the snapshot they were decided on
    expect(d.checks.exposure?.account).toBe("default");
    expect(d.checks.exposure?.touched).toBe(0);
    expect(d.checks.exposure?.snapshot.size).toBe(positions.length + entries.length);
  });

  it("counts only the plan's book: another venue's, or live, position is apart", () => {
    const facts = withExposure({
      positions: [
        { symbol: "BTCUSDT", qty: "3", venue: "binance-usdm", mode: "live" },
        { symbol: "BTCUSDT", qty: "3", venue: "binance-usdm", mode: "paper" },
      ],
    });
    expect(decide(planEntry(planObject({ qty: "3" })), policy, facts).result.error).toBeNull();
    // the dry run of Binance fills its own paper book, which holds 3
    const dry = planObject({ venue: "binance-usdm", account: "default", qty: "0.001" });
    expect(decide(planEntry(dry), policy, facts).result.error).toBe("limit:max_position");
  });

  it("a live plan counts its live book and its live orders being sent or UNKNOWN, whole", () => {
    const live = policyWith({ maxPosition: new Map([["*", dec("3")]]) }, LIVE);
    const plan = (qty: string) => planEntry(planObject({ venue: "binance-usdm", account: "default", qty }));
    const facts = withExposure(
      { positions: [{ symbol: "BTCUSDT", qty: "1", venue: "binance-usdm", mode: "live" }] },
      [
        sendEntry("s:", "BUY", "0.5", "9-1"),
        sendEntry("u:", "BUY", "0.5", "9-2"),
        sendEntry("u:", "SELL", "7", "9-3"),
      ],
    );
    expect(decide(plan("1"), live, facts).result.error).toBeNull();
    expect(decide(plan("1.000000000000000001"), live, facts).result.error).toBe("limit:max_position");
  });

  it("uses the symbol's own cap, else `*`; none set: no check and nothing read", () => {
    const pol = policyWith({
      maxPosition: new Map([
        ["*", dec("1")],
        ["BTCUSDT", dec("3")],
      ]),
    });
    const facts = withExposure({});
    expect(decide(planEntry(planObject({ qty: "3" })), pol, facts).result.error).toBeNull();
    const eth = planObject({ symbol: "ETHUSDT", qty: "1.5" });
    expect(decide(planEntry(eth), pol, facts).result.error).toBe("limit:max_position");
    const none = decide(planEntry(planObject({ qty: "3" })), policyWith({}), makeFacts());
    expect(none.result.error).toBeNull();
    expect(none.checks.exposure).toBeUndefined();
  });

  it("never refuses a reduce-only plan, and reads nothing for it", () => {
    const exit = planObject({ source: EXIT_OWNER, side: "SELL", reduce_only: true, qty: "1" });
    const d = decide(
      planEntry(exit),
      policy,
      makeFacts({ positions: pos("-100").map((p) => ({ ...p, qty: "100" })) }),
    );
    expect(d.result.error).toBeNull();
    expect(d.checks.exposure).toBeUndefined();
    expect(
      factsQueryFor([classifyEntry(planEntry(exit))], NOW, { limits: policy.limits }).exposureAccounts,
    ).toBeUndefined();
  });

  it("fails closed when the account's exposure was not read: FAILED internal_error, nothing written", () => {
    const d = decide(planEntry(planObject()), policy, makeFacts());
    expect(d.result.decision).toBe("FAILED");
    expect(d.result.error).toBe("internal_error");
    expect(d.effects.setPosition).toBeUndefined();
  });

  it("a producer's pre-check reports it as uncertain (positions move), never as a sure denial", () => {
    const out = precheck(planEntry(planObject({ qty: "4" })), { policy, facts: withExposure({}), now: NOW });
    expect(out).toEqual({
      ok: true,
      uncertain: { reason: "limit:max_position", why: expect.stringContaining("passes with time") },
    });
  });

  it("the facts query asks for the account of every place plan a cap applies to", () => {
    const entries = [planObject({ account: "a" }), planObject({ account: "b", symbol: "ETHUSDT" })].map((p) =>
      classifyEntry(planEntry(p)),
    );
    expect(factsQueryFor(entries, NOW, { limits: policy.limits }).exposureAccounts).toEqual(["a"]);
  });
});

describe("limit:max_gross_notional (limits.max_gross_notional)", () => {
  // BTCUSDT 65000, ETHUSDT 3000, SOLUSDT 125 (configured, and Binance's marks at NOW)
  const policy = policyWith({ maxGrossNotional: new Map([["*", dec("200000")]]) });

  it.each([
    ["flat, BUY 1 BTC", [], [], "1", null],
    ["long 2 BTC (130000) + BUY 1 (65000) = 195000", [{ symbol: "BTCUSDT", qty: "2" }], [], "1", null],
    [
      "long 2 BTC, short 5 ETH (|−5| × 3000) + BUY 1: 210000",
      [
        { symbol: "BTCUSDT", qty: "2" },
        { symbol: "ETHUSDT", qty: "-5" },
      ],
      [],
      "1",
      "limit:max_gross_notional",
    ],
    [
      "a working SELL of 1 BTC with 0.5 left counts 32500",
      [{ symbol: "BTCUSDT", qty: "2" }],
      [working(paperOrder({ side: "SELL", fill_qty: "0.5" }))],
      "1",
      "limit:max_gross_notional",
    ],
    ["up to the cap exactly: 200000", [{ symbol: "BTCUSDT", qty: "2" }], [], "1.076923076923076923", null],
  ] as const)("%s", (_n, positions, entries, qty, error) => {
    const d = decide(
      planEntry(planObject({ qty })),
      policy,
      withExposure({ positions: [...positions] }, [...entries]),
    );
    expect(d.result.error).toBe(error);
    expect(d.checks.exposure?.account).toBe("default");
  });

  it("a held symbol without a price refuses the plan, never counting it as zero", () => {
    const facts = withExposure({ positions: [{ symbol: "DOGEUSDT", qty: "1" }] });
    expect(decide(planEntry(planObject()), policy, facts).result.error).toBe("limit:no_reference_price");
    const live = policyWith(policy.limits, LIVE);
    const stale = withExposure({
      positions: [{ symbol: "DOGEUSDT", qty: "1", venue: "binance-usdm", mode: "live" }],
    });
    const plan = planEntry(planObject({ venue: "binance-usdm", account: "default" }));
    expect(decide(plan, live, stale).result.error).toBe("limit:stale_price");
    const old = new Map(live.livePrices);
    old.set(livePriceKey("binance-usdm", "ETHUSDT"), { price: dec("3000"), at: NOW - 60_000, kind: "mark" });
    const ethHeld = withExposure({
      positions: [{ symbol: "ETHUSDT", qty: "1", venue: "binance-usdm", mode: "live" }],
    });
    expect(decide(plan, { ...live, livePrices: old }, ethHeld).result.error).toBe("limit:stale_price");
  });

  it("counts the plan's mode only: paper books do not count against a live plan", () => {
    const live = policyWith(policy.limits, LIVE);
    const facts = withExposure({ positions: [{ symbol: "BTCUSDT", qty: "100" }] });
    const onBinance = planObject({ venue: "binance-usdm", account: "default" });
    expect(decide(planEntry(onBinance), live, facts).result.error).toBeNull();
    expect(decide(planEntry(planObject()), live, facts).result.error).toBe("limit:max_gross_notional");
  });

  it("never refuses a reduce-only plan", () => {
    const exit = planObject({ source: EXIT_OWNER, side: "SELL", reduce_only: true, qty: "1" });
    const facts = withExposure({ positions: [{ symbol: "BTCUSDT", qty: "10" }] });
    expect(decide(planEntry(exit), policy, facts).result.error).toBeNull();
  });
});

describe("exposure across a batch (the overlay) and the touches the commit counts", () => {
  const policy = policyWith({ maxPosition: new Map([["BTCUSDT", dec("3")]]) });

  it("a later plan of the batch sees the earlier fills, and counts the decisions that touched the account", () => {
    const facts = new FactsOverlay(withExposure({}));
    const decided = ["2", "1", "0.5", "1"].map((qty) => {
      const d = decideEntry(classifyEntry(planEntry(planObject({ qty }))), policy, facts, NOW);
      facts.apply(d);
      return d;
    });
    expect(decided.map((d) => d.result.error)).toEqual([
      null,
      null,
      "limit:max_position",
      "limit:max_position",
    ]);
    expect(decided.map((d) => d.checks.exposure?.touched)).toEqual([0, 1, 2, 2]);
    // one snapshot for the batch: what was read
    expect(new Set(decided.map((d) => d.checks.exposure?.snapshot)).size).toBe(1);
  });

  it("exposureTouches names the account of a fill, a resting order, a live send and a closed order", () => {
    const fill = decide(planEntry(planObject({ account: "a" })), policyWith({}), makeFacts());
    expect(exposureTouches(fill)).toEqual(["a"]);
    const denied = decide(planEntry(planObject({ qty: "6" })), policyWith({}), makeFacts());
    expect(exposureTouches(denied)).toEqual([]);
  });
});

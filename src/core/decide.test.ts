import { describe, expect, it } from "vitest";
import {
  BRIDGE,
  decide,
  EXIT_OWNER,
  GHOST,
  makeFacts,
  makePolicy,
  NOW,
  NOW_WINDOW,
  PAPER_BOOK,
  permitPayload,
  planEntry,
  planObject,
  rawEntry,
  signPermit,
} from "../../test/support/coreFixtures.js";
import type { BusEntry } from "./busEntry.js";
import { claimKey } from "./claimKey.js";
import {
  classifyEntry,
  deadLetterDecision,
  decideEntry,
  factsQueryFor,
  internalErrorDecision,
  MAX_DEAD_LETTER_FIELDS,
} from "./decide.js";
import type { Decision } from "./decision.js";
import { type Facts, positionKey, rateKey } from "./facts.js";
import { FactsOverlay } from "./factsOverlay.js";
import type { Policy } from "./policy.js";

const rate = (allowed: boolean, limit = 200) => ({ source: BRIDGE, window: NOW_WINDOW, limit, allowed });
const countRate = { source: BRIDGE, window: NOW_WINDOW };
const pos = (expected: string, symbol = "BTCUSDT", account = "default") => ({
  account,
  symbol,
  ...PAPER_BOOK,
  expected,
});

/** A plan entry with a permit bound to it. */
function withPermit(planOver: Record<string, unknown>, permitOver: Record<string, unknown> = {}): BusEntry {
  const plan = planObject(planOver);
  plan.permit = signPermit(
    permitPayload({
      plan_id: plan.plan_id,
      symbol: plan.symbol,
      side: plan.side,
      max_qty: String(plan.qty),
      ...permitOver,
    }),
  );
  return planEntry(plan);
}

describe("decision checks and effects", () => {
  it("gate 1 denial reads nothing and writes nothing", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-1", qty: "0" })));
    expect(d.result.error).toBe("invalid_plan:qty");
    expect(d.checks).toEqual({});
    expect(d.effects).toEqual({});
  });

  it("unauthenticated entries do not claim the plan_id", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-2" }), { keyId: "stranger-ed" }));
    expect(d.result.error).toBe("unauthenticated:unknown_key");
    expect(d.checks).toEqual({});
    expect(d.effects).toEqual({});
  });

  it("authenticated but denied at gate 3 claims nothing (wire-v1 rev 2: claims after gates 2 and 3)", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-3", source: GHOST })));
    expect(d.result.error).toBe(`source_not_allowed:${GHOST}`);
    expect(d.result.authenticated).toBe(true);
    expect(d.checks).toEqual({});
    expect(d.effects).toEqual({});
  });

  it("a signed plan copied onto a lane its source may not use claims nothing", () => {
    const entry = planEntry(planObject({ plan_id: "ce-3b" }), { lane: "manual" });
    const d = decide(entry);
    expect(d.result.error).toBe(`source_not_allowed:${BRIDGE}`);
    expect(d.effects).toEqual({});
  });

  it("denied at gate 4 claims, reads nothing", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-4", reduce_only: true })));
    expect(d.result.error).toBe(`NOT_EXIT_OWNER:source=${BRIDGE}`);
    expect(d.checks).toEqual({});
    expect(d.effects).toEqual({ claimPlanId: "ce-4" });
  });

  it("denied at gate 5 relies on the trading state", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-5" })),
      makePolicy(),
      makeFacts({ tradingState: "REDUCING" }),
    );
    expect(d.result.error).toBe("trading_reducing");
    expect(d.checks).toEqual({ tradingState: "REDUCING" });
    expect(d.effects).toEqual({ claimPlanId: "ce-5" });
  });

  it("stale plan relies on the trading state it passed", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-6", expires_at: NOW - 1 })));
    expect(d.result.error).toBe("stale_plan");
    expect(d.checks).toEqual({ tradingState: "ACTIVE" });
    expect(d.effects).toEqual({ claimPlanId: "ce-6" });
  });

  it("duplicate relies on the plan_id still being claimed", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-7" })),
      makePolicy(),
      makeFacts({ claimedPlanIds: ["ce-7"] }),
    );
    expect(d.result.error).toBe("duplicate_plan_id");
    expect(d.result.authenticated).toBe(true);
    expect(d.checks).toEqual({ tradingState: "ACTIVE", planId: { id: "ce-7", claimed: true } });
    // claimPlanId is set-if-absent, so it is harmless here.
    expect(d.effects).toEqual({ claimPlanId: "ce-7" });
  });

  it("invalid permit: nothing consumed, no rate counted", () => {
    const d = decide(planEntry(planObject({ plan_id: "ce-8", permit: "junk" })));
    expect(d.result.error).toBe("permit_invalid:format");
    expect(d.checks).toEqual({ tradingState: "ACTIVE", planId: { id: "ce-8", claimed: false } });
    expect(d.effects).toEqual({ claimPlanId: "ce-8" });
  });

  it("reused permit relies on it still being consumed, and consumes nothing", () => {
    const d = decide(
      withPermit({ plan_id: "ce-9" }, { permit_id: "pm-used" }),
      makePolicy(),
      makeFacts({ usedPermitIds: ["pm-used"] }),
    );
    expect(d.result.error).toBe("permit_reused");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-9", claimed: false },
      permit: { id: "pm-used", used: true },
    });
    expect(d.effects).toEqual({ claimPlanId: "ce-9" });
  });

  it("permit passed gate 8 but denied at gate 9: permit consumed, rate counted", () => {
    const d = decide(
      withPermit({ plan_id: "ce-10", qty: "6" }, { permit_id: "pm-10" }),
      makePolicy({ limits: { maxNotional: undefined } }),
    );
    expect(d.result.error).toBe("limit:max_qty");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-10", claimed: false },
      permit: { id: "pm-10", used: false },
      rate: rate(true),
    });
    expect(d.effects).toEqual({ claimPlanId: "ce-10", consumePermit: "pm-10", countRate });
  });

  it("denied by the rate limit is itself counted", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-11" })),
      makePolicy(),
      makeFacts({ rates: { [BRIDGE]: 200 } }),
    );
    expect(d.result.error).toBe("limit:rate");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-11", claimed: false },
      rate: rate(false),
    });
    expect(d.effects).toEqual({ claimPlanId: "ce-11", countRate });
  });

  it("no rate limit configured: no rate check, nothing counted", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-12" })),
      makePolicy({ limits: { ratePerSourcePerS: undefined } }),
    );
    expect(d.result.decision).toBe("EXECUTED");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-12", claimed: false },
      position: pos("0"),
    });
    expect(d.effects).toEqual({
      claimPlanId: "ce-12",
      setPosition: { account: "default", symbol: "BTCUSDT", ...PAPER_BOOK, value: "1" },
    });
  });

  it("venue not enabled: counted, no position", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-13", venue: "binance-usdm", account: "a1" })),
      makePolicy({ liveFallback: "deny" }),
    );
    expect(d.result.error).toBe("venue_not_enabled:binance-usdm");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-13", claimed: false },
      rate: rate(true),
    });
    expect(d.effects).toEqual({ claimPlanId: "ce-13", countRate });
  });

  it("reduce_only rejected by the paper venue relies on the position, does not change it", () => {
    const d = decide(
      planEntry(
        planObject({ plan_id: "ce-14", source: EXIT_OWNER, side: "SELL", reduce_only: true, qty: "2" }),
      ),
      makePolicy(),
      makeFacts({ positions: [{ symbol: "BTCUSDT", qty: "1" }] }),
    );
    expect(d.result).toMatchObject({
      decision: "FAILED",
      error: "venue_error:reduce_only_rejected",
      executed: false,
    });
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-14", claimed: false },
      rate: { ...rate(true), source: EXIT_OWNER },
      position: pos("1"),
    });
    expect(d.effects).toEqual({ claimPlanId: "ce-14", countRate: { ...countRate, source: EXIT_OWNER } });
  });

  it("EXECUTED with a permit: every check and every write", () => {
    const d = decide(
      withPermit({ plan_id: "ce-15", qty: "0.25", account: "acct-9" }, { permit_id: "pm-15" }),
      makePolicy(),
      makeFacts({
        positions: [{ account: "acct-9", symbol: "BTCUSDT", qty: "-0.25" }],
        rates: { [BRIDGE]: 5 },
      }),
    );
    expect(d.result.decision).toBe("EXECUTED");
    expect(d.checks).toEqual({
      tradingState: "ACTIVE",
      planId: { id: "ce-15", claimed: false },
      permit: { id: "pm-15", used: false },
      rate: rate(true),
      position: pos("-0.25", "BTCUSDT", "acct-9"),
    });
    expect(d.effects).toEqual({
      claimPlanId: "ce-15",
      consumePermit: "pm-15",
      countRate,
      setPosition: { account: "acct-9", symbol: "BTCUSDT", ...PAPER_BOOK, value: "0" },
    });
  });

  it("require_auth off and no auth: passes gate 2 unsigned, authenticated false, claims in its source's namespace", () => {
    const d = decide(
      planEntry(planObject({ plan_id: "ce-16" }), { keyId: null }),
      makePolicy({ requireAuth: false }),
    );
    expect(d.result).toMatchObject({ decision: "EXECUTED", authenticated: false });
    expect(d.effects.claimPlanId).toBe(claimKey("ce-16", BRIDGE));
    expect(d.checks.planId).toEqual({ id: claimKey("ce-16", BRIDGE), claimed: false });
  });

  it("an unsigned entry is not blocked by, and does not block, a signed plan's claim", () => {
    const policy = makePolicy({ requireAuth: false });
    // The signed plan claimed "ce-17" first: the unsigned copy is decided in its own namespace.
    const unsigned = decide(
      planEntry(planObject({ plan_id: "ce-17" }), { keyId: null }),
      policy,
      makeFacts({ claimedPlanIds: ["ce-17"] }),
    );
    expect(unsigned.result.decision).toBe("EXECUTED");
    // The unsigned entry claimed first: the signed plan still executes.
    const signed = decide(
      planEntry(planObject({ plan_id: "ce-17" })),
      policy,
      makeFacts({ claimedPlanIds: [claimKey("ce-17", BRIDGE)] }),
    );
    expect(signed.result).toMatchObject({ decision: "EXECUTED", authenticated: true });
    expect(signed.effects.claimPlanId).toBe("ce-17");
  });

  it("the decision names the entry", () => {
    const entry = planEntry(planObject(), { lane: "manual", id: "123-4" });
    const d = decide(entry);
    expect([d.lane, d.streamId, d.result.lane, d.result.stream_id]).toEqual([
      "manual",
      "123-4",
      "manual",
      "123-4",
    ]);
  });
});

describe("result echo of an invalid plan", () => {
  it("echoes readable plan fields, venue included (wire-v1 §4: from the plan, when readable)", () => {
    const d = decide(planEntry(planObject({ plan_id: "echo-1", venue: "paper", qty: "0" })));
    expect(d.result.error).toBe("invalid_plan:qty");
    expect(d.result).toMatchObject({ plan_id: "echo-1", source: BRIDGE, symbol: "BTCUSDT", side: "BUY" });
    // buildResult reads partial.venue, but parseEntry's readablePart never fills it in.
    expect(d.result.venue).toBe("paper");
  });

  it("does not echo an unreadable plan_id", () => {
    const d = decide(planEntry(planObject({ plan_id: "bad id", qty: "0" })));
    expect(d.result.plan_id).toBeNull();
  });
});

describe("FactsOverlay: a batch decides as if committed one by one", () => {
  function decideBatch(entries: BusEntry[], policy: Policy = makePolicy(), facts: Facts = makeFacts()) {
    const overlay = new FactsOverlay(facts);
    const decisions: Decision[] = [];
    for (const e of entries) {
      const d = decideEntry(classifyEntry(e), policy, overlay, NOW);
      overlay.apply(d);
      decisions.push(d);
    }
    return { overlay, decisions };
  }

  it("a second entry with the same plan_id is a duplicate", () => {
    const plan = planObject({ plan_id: "batch-1" });
    const { decisions } = decideBatch([planEntry(plan), planEntry(plan)]);
    expect(decisions.map((d) => d.result.error)).toEqual([null, "duplicate_plan_id"]);
    expect(decisions[1]?.checks.planId).toEqual({ id: "batch-1", claimed: true });
    expect(decisions[1]?.effects.setPosition).toBeUndefined();
  });

  it("a copy on a lane its source may not use (gate 3) does not take the plan_id from the genuine plan", () => {
    const { decisions } = decideBatch([
      planEntry(planObject({ plan_id: "batch-2" }), { lane: "manual" }),
      planEntry(planObject({ plan_id: "batch-2" })),
    ]);
    expect(decisions.map((d) => d.result.error)).toEqual([`source_not_allowed:${BRIDGE}`, null]);
  });

  it("a plan_id claimed by an entry denied later (gate 4) is still taken", () => {
    const { decisions } = decideBatch([
      planEntry(planObject({ plan_id: "batch-2b", reduce_only: true })),
      planEntry(planObject({ plan_id: "batch-2b" })),
    ]);
    expect(decisions.map((d) => d.result.error)).toEqual([
      `NOT_EXIT_OWNER:source=${BRIDGE}`,
      "duplicate_plan_id",
    ]);
  });

  it("an unauthenticated entry does not take the plan_id", () => {
    const { decisions } = decideBatch([
      planEntry(planObject({ plan_id: "batch-3" }), { keyId: "ghost-k1" }),
      planEntry(planObject({ plan_id: "batch-3" })),
    ]);
    expect(decisions.map((d) => d.result.error)).toEqual(["unauthenticated:source_mismatch", null]);
  });

  it("fills accumulate and a flat position is removed", () => {
    const { overlay, decisions } = decideBatch([
      planEntry(planObject({ qty: "1" })),
      planEntry(planObject({ qty: "0.5" })),
      planEntry(planObject({ side: "SELL", qty: "2" })),
      planEntry(planObject({ source: EXIT_OWNER, side: "BUY", qty: "0.5", reduce_only: true })),
      planEntry(planObject({ source: EXIT_OWNER, side: "BUY", qty: "0.5", reduce_only: true })),
    ]);
    expect(decisions.map((d) => [d.result.decision, d.effects.setPosition?.value ?? d.result.error])).toEqual(
      [
        ["EXECUTED", "1"],
        ["EXECUTED", "1.5"],
        ["EXECUTED", "-0.5"],
        ["EXECUTED", "0"],
        ["FAILED", "venue_error:reduce_only_rejected"],
      ],
    );
    expect(decisions.map((d) => d.checks.position?.expected)).toEqual(["0", "1", "1.5", "-0.5", "0"]);
    expect(overlay.positions.has(positionKey({ account: "default", symbol: "BTCUSDT", ...PAPER_BOOK }))).toBe(
      false,
    );
  });

  it("rate counts every plan reaching gate 9, denied ones included", () => {
    const policy = makePolicy({ limits: { ratePerSourcePerS: 2 } });
    const { overlay, decisions } = decideBatch(
      [1, 2, 3, 4].map(() => planEntry(planObject())),
      policy,
    );
    expect(decisions.map((d) => d.result.error)).toEqual([null, null, "limit:rate", "limit:rate"]);
    expect(overlay.rateCounts.get(rateKey({ source: BRIDGE, window: NOW_WINDOW }))).toBe(4);
  });

  it("a permit_id consumed earlier in the batch is reused", () => {
    const a = withPermit({ plan_id: "batch-pa" }, { permit_id: "shared-permit" });
    const b = withPermit({ plan_id: "batch-pb" }, { permit_id: "shared-permit" });
    const { overlay, decisions } = decideBatch([a, b]);
    expect(decisions.map((d) => d.result.error)).toEqual([null, "permit_reused"]);
    expect(overlay.usedPermitIds.has("shared-permit")).toBe(true);
  });

  it("never writes through to the facts it was built from", () => {
    const facts = makeFacts({ claimedPlanIds: ["x"] });
    const { overlay } = decideBatch([planEntry(planObject({ plan_id: "batch-4" }))], makePolicy(), facts);
    expect([...facts.claimedPlanIds]).toEqual(["x"]);
    expect(facts.positions.size).toBe(0);
    expect(facts.rateCounts.size).toBe(0);
    expect(overlay.claimedPlanIds.has("batch-4")).toBe(true);
  });
});

describe("factsQueryFor", () => {
  it("asks for each readable plan's plan_id, permit, rate window and position once", () => {
    const permitted = withPermit({ plan_id: "fq-2", account: "acct-1" }, { permit_id: "pm-fq" });
    const q = factsQueryFor(
      [
        planEntry(planObject({ plan_id: "fq-1" })),
        permitted,
        planEntry(planObject({ plan_id: "fq-1", source: EXIT_OWNER, symbol: "ETHUSDT" })),
        planEntry(planObject({ plan_id: "fq-bad", qty: "0" })),
        rawEntry([["junk", Buffer.from("x")]]),
      ].map((e) => classifyEntry(e)),
      NOW,
    );
    expect(q.planIds).toEqual(["fq-1", "fq-2"]);
    expect(q.permitIds).toEqual(["pm-fq"]);
    expect(q.rates).toEqual([
      { source: BRIDGE, window: NOW_WINDOW },
      { source: EXIT_OWNER, window: NOW_WINDOW },
    ]);
    expect(q.positions).toEqual([
      { account: "default", symbol: "BTCUSDT", ...PAPER_BOOK },
      { account: "acct-1", symbol: "BTCUSDT", ...PAPER_BOOK },
      { account: "default", symbol: "ETHUSDT", ...PAPER_BOOK },
    ]);
  });
});

describe("dead letters and internal errors", () => {
  it("delivery limit: FAILED, never parsed (no plan fields), only the DLQ copy written", () => {
    const entry = planEntry(planObject({ plan_id: "dl-1" }), { deliveries: 10 });
    const classified = classifyEntry(entry, { maxDeliveries: 10 });
    expect(classified.kind).toBe("dead_letter");
    const d = decideEntry(classified, makePolicy(), makeFacts(), NOW);
    expect(d).toEqual(deadLetterDecision(entry, NOW));
    expect(d.result).toMatchObject({
      decision: "FAILED",
      error: "internal_error:delivery_limit",
      executed: false,
      plan_id: null,
      authenticated: false,
    });
    expect(d.checks).toEqual({});
    expect(d.effects).toEqual({ deadLetter: { fields: entry.fields, deliveries: 10 } });
  });

  it("one delivery short of the limit: decided normally", () => {
    const entry = planEntry(planObject({ plan_id: "dl-2" }), { deliveries: 9 });
    expect(classifyEntry(entry, { maxDeliveries: 10 }).kind).toBe("parsed");
    expect(
      decideEntry(classifyEntry(entry, { maxDeliveries: 10 }), makePolicy(), makeFacts(), NOW).result
        .decision,
    ).toBe("EXECUTED");
  });

  it("the DLQ copy of an entry with very many fields keeps the first MAX_DEAD_LETTER_FIELDS", () => {
    const fields = Array.from({ length: 5000 }, (_, i) => [`f${i}`, Buffer.from("x")] as const);
    const d = deadLetterDecision({ ...rawEntry(fields), deliveries: 10 }, NOW);
    expect(d.effects.deadLetter?.fields).toHaveLength(MAX_DEAD_LETTER_FIELDS);
    expect(d.effects.deadLetter?.fields[0]?.[0]).toBe("f0");
  });

  it("an entry whose reading throws gets its own internal_error, not a failed batch", () => {
    const entry: BusEntry = {
      lane: "main",
      id: "7-7",
      deliveries: 1,
      get fields(): BusEntry["fields"] {
        throw new RangeError("Maximum call stack size exceeded");
      },
    };
    const classified = classifyEntry(entry, { maxDeliveries: 10 });
    expect(classified.kind).toBe("unreadable");
    const d = decideEntry(classified, makePolicy(), makeFacts(), NOW);
    expect(d.result).toMatchObject({ decision: "FAILED", error: "internal_error", stream_id: "7-7" });
    expect(d.effects).toEqual({});
    expect(factsQueryFor([classified], NOW).planIds).toEqual([]);
  });

  it("a rate counter that is not a count fails that entry alone (internal_error), never decided on a guess", () => {
    const policy = makePolicy({ limits: { ...makePolicy().limits, ratePerSourcePerS: 10 } });
    for (const corrupt of [Number.NaN, 1.5, -1]) {
      const facts = makeFacts();
      (facts.rateCounts as Map<string, number>).set(rateKey({ source: BRIDGE, window: NOW_WINDOW }), corrupt);
      const d = decide(planEntry(planObject()), policy, facts);
      expect(d.result).toMatchObject({ decision: "FAILED", error: "internal_error" });
      expect(d.effects).toEqual({});
    }
  });

  it("delivery limit on garbage: FAILED, no plan fields", () => {
    const entry = rawEntry([["plan", Buffer.from([0xff])]]);
    const d = deadLetterDecision(entry, NOW);
    expect(d.result).toMatchObject({
      decision: "FAILED",
      error: "internal_error:delivery_limit",
      plan_id: null,
    });
    expect(d.result.authenticated).toBe(false);
  });

  it("a malformed ledger position becomes internal_error, not a throw", () => {
    const facts = makeFacts({ positions: [{ symbol: "BTCUSDT", qty: "not-a-number" }] });
    const d = decide(planEntry(planObject()), makePolicy(), facts);
    expect(d.result).toMatchObject({ decision: "FAILED", error: "internal_error", executed: false });
    expect(d.effects).toEqual({});
    expect(d.checks).toEqual({});
  });

  it("internalErrorDecision writes nothing but the result", () => {
    const d = internalErrorDecision({ lane: "main", id: "9-9" }, NOW);
    expect(d.result).toMatchObject({
      decision: "FAILED",
      error: "internal_error",
      plan_id: null,
      stream_id: "9-9",
    });
    expect(d.effects).toEqual({});
  });
});

describe("plan meta size (wire-v1 §3: at most 4 KiB of JSON text)", () => {
  it("counts a member named __proto__", () => {
    // JSON.parse keeps "__proto__" as an own member, but zod's record output drops it,
    // so parseEntry measures `{}` and accepts 5000+ bytes of meta.
    const json = JSON.stringify(planObject({ plan_id: "meta-proto" }));
    const text = `${json.slice(0, -1)},"meta":{"__proto__":"${"x".repeat(5000)}"}}`;
    const d = decide(planEntry(text, { keyId: "bridge-k1" }));
    expect(d.result.error).toBe("invalid_plan:meta_too_large");
  });
});

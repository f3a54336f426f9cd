import { describe, expect, it } from "vitest";
import {
  BRIDGE,
  decide,
  EXIT_OWNER,
  makeFacts,
  makePolicy,
  NOW,
  planEntry,
  planObject,
} from "../../../test/support/coreFixtures.js";
import { classifyEntry, decideEntry } from "../decide.js";
import { duplicateKeyOf } from "../duplicateKey.js";
import { FactsOverlay } from "../factsOverlay.js";
import { parseEntry } from "../parseEntry.js";
import type { OrderPlan } from "../plan.js";

const WINDOW = 2000;
const policy = (() => {
  const p = makePolicy();
  return { ...p, limits: { ...p.limits, duplicateWindowMs: WINDOW } };
})();

/** The duplicate key of a plan object, as the gate computes it. */
function keyOf(plan: Record<string, unknown>): string {
  const parsed = parseEntry(planEntry(plan).fields);
  if (!parsed.ok) throw new Error("fixture plan does not parse");
  return duplicateKeyOf(parsed.entry.plan as OrderPlan);
}

describe("limit:duplicate_order (limits.duplicate_window_ms)", () => {
  const plan = (over: Record<string, unknown> = {}) => planObject({ qty: "0.5", ...over });

  // The ledger returns a mark only while it lasts by the ledger's clock; the time in it was read by
  // the clock of whichever executor marked it, so it is never compared with this executor's clock.
  it.each([
    ["1 ms ago", 1],
    ["exactly the window ago by this executor's clock", WINDOW],
    ["long ago by this executor's clock (it runs ahead of the one that marked it)", 60_000],
    ["in this executor's future (it runs behind)", -60_000],
  ])("a mark the ledger returns, executed %s → limit:duplicate_order", (_n, ago) => {
    const facts = makeFacts({ duplicates: { [keyOf(plan())]: NOW - ago } });
    const d = decide(planEntry(plan()), policy, facts);
    expect(d.result.error).toBe("limit:duplicate_order");
    // the mark read is re-checked at commit
    expect(d.checks.duplicate).toEqual({ key: keyOf(plan()), expected: String(NOW - ago) });
  });

  it("no mark → executes, and the commit checks the mark is still absent", () => {
    const d = decide(planEntry(plan()), policy, makeFacts());
    expect(d.result.error).toBeNull();
    expect(d.checks.duplicate).toEqual({ key: keyOf(plan()), expected: null });
  });

  it("a mark that is not a time is a corrupt ledger: nothing is decided on it", () => {
    const facts = makeFacts({ duplicates: { [keyOf(plan())]: Number.NaN } });
    const d = decide(planEntry(plan()), policy, facts);
    expect([d.result.decision, d.result.error, d.result.executed]).toEqual([
      "FAILED",
      "internal_error",
      false,
    ]);
  });

  it("a MARKET plan's price is not part of its content: it is never used, so stamping one on a resend does not make it another order", () => {
    const facts = makeFacts({ duplicates: { [keyOf(plan())]: NOW - 10 } });
    for (const price of ["65000", "1", "65000.0"])
      expect(decide(planEntry(plan({ price })), policy, facts).result.error, price).toBe(
        "limit:duplicate_order",
      );
    expect(keyOf(plan({ price: "65000" }))).toBe(keyOf(plan()));
    // a LIMIT at that price is another order (it rests at its price)
    expect(keyOf(plan({ type: "LIMIT", price: "65000" }))).not.toBe(keyOf(plan({ price: "65000" })));
  });

  it("a new plan_id does not make it another order; any other field does", () => {
    const facts = makeFacts({ duplicates: { [keyOf(plan())]: NOW - 10 } });
    expect(decide(planEntry(plan()), policy, facts).result.error).toBe("limit:duplicate_order");
    for (const over of [
      { qty: "0.6" },
      { side: "SELL" },
      { symbol: "ETHUSDT" },
      { account: "acct-2" },
      { type: "LIMIT", price: "65000" },
      { source: EXIT_OWNER },
    ])
      expect(decide(planEntry(plan(over)), policy, facts).result.error, JSON.stringify(over)).toBeNull();
    expect(keyOf(plan({ source: EXIT_OWNER, reduce_only: true }))).not.toBe(
      keyOf(plan({ source: EXIT_OWNER })),
    );
    // decimals are compared canonically: "0.50" is 0.5
    expect(decide(planEntry(plan({ qty: "0.50" })), policy, facts).result.error).toBe(
      "limit:duplicate_order",
    );
  });

  it("an executed plan marks its content for the window; a denied one marks nothing", () => {
    const ok = decide(planEntry(plan()), policy, makeFacts());
    expect(ok.result.decision).toBe("EXECUTED");
    expect(ok.checks.duplicate).toEqual({ key: keyOf(plan()), expected: null });
    expect(ok.effects.markDuplicate).toEqual({ key: keyOf(plan()), at: NOW, ttlMs: WINDOW });
    const denied = decide(
      planEntry(plan({ source: BRIDGE, reduce_only: true, side: "SELL" })),
      policy,
      makeFacts(),
    );
    expect(denied.result.error).toMatch(/^NOT_EXIT_OWNER/);
    expect(denied.effects.markDuplicate).toBeUndefined();
  });

  it("within one batch the second copy is denied (the first one's mark is applied before it is decided)", () => {
    const facts = new FactsOverlay(makeFacts());
    const first = decideEntry(classifyEntry(planEntry(plan(), { id: "1-1" })), policy, facts, NOW);
    facts.apply(first);
    const second = decideEntry(classifyEntry(planEntry(plan(), { id: "1-2" })), policy, facts, NOW + 5);
    expect([first.result.decision, second.result.error]).toEqual(["EXECUTED", "limit:duplicate_order"]);
  });

  it("without the limit nothing is read, checked or marked", () => {
    const d = decide(planEntry(plan()), makePolicy(), makeFacts({ duplicates: { [keyOf(plan())]: NOW } }));
    expect(d.result.decision).toBe("EXECUTED");
    expect(d.checks.duplicate).toBeUndefined();
    expect(d.effects.markDuplicate).toBeUndefined();
  });
});

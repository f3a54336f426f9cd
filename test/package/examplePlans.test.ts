/**
 * The example plan files in `examples/` are plans a producer may publish:
 * `checkPlanText` (what `intentgate submit` checks) accepts each, and with a
 * fresh `created_at` each passes the executor's own gates on the paper venue.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { classifyEntry, decideEntry } from "../../src/core/decide.js";
import { checkPlanText } from "../../src/sdk/planInput.js";
import { makeFacts, makePolicy, NOW, planEntry } from "../support/coreFixtures.js";

const DIR = resolve(import.meta.dirname, "../../examples");
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("examples/*.json", () => {
  it("holds the documented examples", () => {
    expect(files.sort()).toEqual([
      "cancel.json",
      "close-reduce-only.json",
      "limit-with-permit.json",
      "open.json",
    ]);
  });

  it.each(files)("%s is a plan a producer may publish", (file) => {
    const text = readFileSync(join(DIR, file), "utf8");
    expect(() => checkPlanText(text)).not.toThrow();
    const plan = JSON.parse(text) as Record<string, unknown>;
    expect(typeof plan.created_at).toBe("number");
  });

  it("open.json, made fresh, is EXECUTED on the paper venue by the executor's gates", () => {
    const plan = {
      ...JSON.parse(readFileSync(join(DIR, "open.json"), "utf8")),
      source: "intent_bridge",
      created_at: NOW,
    };
    const { result } = decideEntry(classifyEntry(planEntry(plan)), makePolicy(), makeFacts(), NOW);
    expect(result).toMatchObject({ decision: "EXECUTED", qty: "0.01", symbol: "BTCUSDT" });
  });

  it("close-reduce-only.json, made fresh, closes a long position for the exit owner", () => {
    const plan = {
      ...JSON.parse(readFileSync(join(DIR, "close-reduce-only.json"), "utf8")),
      created_at: NOW,
    };
    const facts = makeFacts({ positions: [{ symbol: "BTCUSDT", qty: "0.01" }] });
    const { result } = decideEntry(classifyEntry(planEntry(plan)), makePolicy(), facts, NOW);
    expect(result).toMatchObject({ decision: "EXECUTED", source: "exitbrain_v3_5", reduce_only: true });
  });
});

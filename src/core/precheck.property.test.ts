import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validPlan, world } from "../../test/support/coreArbitraries.js";
import { KEY_FOR_SOURCE, NOW, planEntry } from "../../test/support/coreFixtures.js";
import { classifyEntry, decideEntry } from "./decide.js";
import { precheck } from "./precheck.js";
import { baseCode, REASON_CODES, type ReasonCode } from "./reasons.js";

/** How a generated plan is signed: with its source's key, unsigned, or with a wrong signature. */
const signing = fc.constantFrom("key", "none", "bad" as const);

describe("precheck agrees with the executor's decision (layer 1 = layer 2's gates)", () => {
  it("a pre-check denial is always the executor's denial; every sure denial at gates 1-9 is caught", () => {
    let denied = 0;
    fc.assert(
      fc.property(validPlan, world, signing, fc.boolean(), (plan, w, sign, manual) => {
        const lane = manual ? "manual" : "main";
        const entry =
          sign === "key"
            ? planEntry(plan, { lane })
            : sign === "none"
              ? planEntry(plan, { lane, keyId: null })
              : planEntry(plan, { lane, auth: `hmac-sha256:${KEY_FOR_SOURCE[plan.source as string]}:AAAA` });
        const out = precheck(entry, { policy: w.policy, facts: w.facts, now: NOW });
        const { result } = decideEntry(classifyEntry(entry), w.policy, w.facts, NOW);
        if (!out.ok) {
          denied++;
          expect(result.decision).toBe("DENIED");
          expect(result.error).toBe(out.reason);
          expect(out.gate).toBe(REASON_CODES[baseCode(out.reason) as ReasonCode]);
          return;
        }
        if (result.decision === "DENIED" && result.error !== null) {
          // Passed although the executor denies: only what a pre-check must not be sure of.
          const gate = REASON_CODES[baseCode(result.error) as ReasonCode];
          expect(gate > 9 || result.error === "limit:rate", `${result.error} let through`).toBe(true);
          expect(out.uncertain?.reason).toBe(result.error);
        }
      }),
      { numRuns: 2000 },
    );
    expect(denied).toBeGreaterThan(100);
  });

  it("a denial that hinges on a key the producer could not load is uncertain, not a denial", () => {
    fc.assert(
      fc.property(validPlan, world, (plan, w) => {
        const keyId = KEY_FOR_SOURCE[plan.source as string] as string;
        const entry = planEntry(plan, { auth: `hmac-sha256:${keyId}:AAAA` });
        const keys = new Map(w.policy.keys);
        keys.delete(keyId);
        const policy = { ...w.policy, keys };
        const out = precheck(entry, { policy, facts: w.facts, omittedKeys: new Set([keyId]), now: NOW });
        const { result } = decideEntry(classifyEntry(entry), policy, w.facts, NOW);
        if (result.error?.startsWith("unauthenticated:")) {
          expect(out.ok).toBe(true);
          expect(out.ok && out.uncertain?.why).toContain(keyId);
        }
      }),
      { numRuns: 300 },
    );
  });
});

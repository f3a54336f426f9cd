import type { Reason } from "../reasons.js";
import type { Evaluation, Gate, GateInput } from "./gate.js";

/** The chain's verdict: what the gates found, and the denial if one stopped it. */
export interface Verdict {
  readonly evaluation: Evaluation;
  readonly denial?: { readonly gate: string; readonly reason: Reason; readonly kind: "DENIED" | "FAILED" };
}

/** Runs gates in order, merging what each finds, and stops at the first denial. */
export function runGates(chain: readonly Gate[], input: GateInput): Verdict {
  let evaluation: Evaluation = { authenticated: false, checks: {} };
  for (const gate of chain) {
    const out = gate.run(input, evaluation);
    evaluation = { ...evaluation, ...out.found, checks: { ...evaluation.checks, ...out.checks } };
    if (!out.ok) {
      return {
        evaluation,
        denial: { gate: gate.name, reason: out.reason ?? "internal_error", kind: out.kind ?? "DENIED" },
      };
    }
  }
  return { evaluation };
}

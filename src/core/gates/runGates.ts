import type { DecisionChecks } from "../decision.js";
import type { Reason } from "../reasons.js";
import type { Evaluation, Gate, GateInput, Mutable } from "./gate.js";

/** The chain's verdict: what the gates found, and the denial if one stopped it. */
export interface Verdict {
  readonly evaluation: Evaluation;
  readonly denial?: { readonly gate: string; readonly reason: Reason };
}

/**
 * Runs gates in order, merging what each finds, and stops at the first
 * denial. The evaluation is one object the runner owns and extends in place
 * (gates only ever see it read-only), so the hot path allocates no copies.
 */
export function runGates(chain: readonly Gate[], input: GateInput): Verdict {
  const checks: Mutable<DecisionChecks> = {};
  const evaluation: Mutable<Evaluation> = { authenticated: false, checks };
  for (const gate of chain) {
    const out = gate.run(input, evaluation);
    if (out.found) Object.assign(evaluation, out.found);
    if (out.checks) Object.assign(checks, out.checks);
    if (!out.ok) return { evaluation, denial: { gate: gate.name, reason: out.reason } };
  }
  return { evaluation };
}

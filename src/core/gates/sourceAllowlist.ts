import { reason } from "../reasons.js";
import { deny, type Gate, type GateOutcome, planOf } from "./gate.js";

const ADMITTED: GateOutcome = Object.freeze({ ok: true, found: Object.freeze({ admitted: true }) });

/**
 * Gate 3: the source is configured and allowed on this entry's lane
 * (`source_not_allowed:<source>`). An entry that passes it is `admitted`: only
 * now may it claim its plan_id (wire-v1 §3), so a copy of a signed plan on a
 * lane its source may not use claims nothing.
 */
export const sourceAllowlistGate: Gate = {
  name: "source_allowlist",
  run({ policy, entry }, ev) {
    const plan = planOf(ev);
    const lanes = policy.sources.get(plan.source)?.lanes;
    return lanes?.has(entry.lane) ? ADMITTED : deny(reason("source_not_allowed", plan.source));
  },
};

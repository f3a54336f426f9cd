import { reason } from "../reasons.js";
import { ALLOW, deny, type Gate, planOf } from "./gate.js";

/** Gate 3: the source is configured and allowed on this entry's lane (`source_not_allowed:<source>`). */
export const sourceAllowlistGate: Gate = {
  name: "source_allowlist",
  run({ policy, entry }, ev) {
    const plan = planOf(ev);
    const lanes = policy.sources.get(plan.source)?.lanes;
    return lanes?.has(entry.lane) ? ALLOW : deny(reason("source_not_allowed", plan.source));
  },
};

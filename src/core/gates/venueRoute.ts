import { reason } from "../reasons.js";
import { deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 10: where the order goes. `paper` plans go to the paper venue. A live
 * venue must be configured under `venues` (else `venue_not_enabled:<venue>`).
 * It is sent live only with both keys turned (config `live: true` AND
 * `INTENTGATE_LIVE=1`) and the venue's readiness check passed for the
 * plan's account; otherwise it
 * falls back to the paper venue (`mode: "paper"`), or with
 * `live_fallback: "deny"` is denied `venue_not_enabled:<venue>`.
 */
export const venueRouteGate: Gate = {
  name: "venue_route",
  run({ policy }, ev) {
    const plan = planOf(ev);
    if (plan.venue === "paper") return { ok: true, found: { route: { venue: "paper", mode: "paper" } } };
    if (!policy.enabledVenues.has(plan.venue)) return deny(reason("venue_not_enabled", plan.venue));
    const ready = policy.readyVenues.get(plan.venue);
    const account = plan.account ?? "";
    if (policy.live && policy.liveEnv && ready !== undefined && (ready.has("*") || ready.has(account)))
      return { ok: true, found: { route: { venue: plan.venue, mode: "live" } } };
    if (policy.liveFallback === "deny") return deny(reason("venue_not_enabled", plan.venue));
    return { ok: true, found: { route: { venue: plan.venue, mode: "paper" } } };
  },
};

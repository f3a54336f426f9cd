import { reason } from "../reasons.js";
import { deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 10: where the order goes. `paper` plans go to the paper venue. A live
 * venue must be configured under `venues` (else `venue_not_enabled:<venue>`);
 * with `live` off it falls back to the paper venue (`mode: "paper"`). Live
 * sending needs a live venue adapter and the signing plane, which this build
 * does not have yet, so with `live` on a live venue is `venue_not_enabled`.
 */
export const venueRouteGate: Gate = {
  name: "venue_route",
  run({ policy }, ev) {
    const plan = planOf(ev);
    if (plan.venue === "paper") return { ok: true, found: { route: { venue: "paper", mode: "paper" } } };
    if (!policy.enabledVenues.has(plan.venue) || policy.live)
      return deny(reason("venue_not_enabled", plan.venue));
    return { ok: true, found: { route: { venue: plan.venue, mode: "paper" } } };
  },
};

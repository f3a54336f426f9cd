import type { PositionMode } from "../facts.js";
import type { Plan } from "../plan.js";
import type { Policy } from "../policy.js";
import { reason } from "../reasons.js";
import { deny, type Gate, planOf } from "./gate.js";

/**
 * Gate 10: where the order goes (wire-v1 §6, §8). `paper` plans go to the
 * paper venue. A live venue must be configured under `venues` (else
 * `venue_not_enabled:<venue>`). With `live: false` (a dry run) a live-venue
 * plan is executed on the paper venue (`mode: "paper"`), or denied
 * `venue_not_enabled:<venue>` with `live_fallback: "deny"`. With
 * `live: true` it goes live only with `INTENTGATE_LIVE=1` and the venue ready
 * for the plan's account; otherwise it is denied `venue_not_ready:<venue>`,
 * the same for every venue: a live plan is never filled on paper.
 */
export const venueRouteGate: Gate = {
  name: "venue_route",
  run({ policy }, ev) {
    const plan = planOf(ev);
    if (plan.venue === "paper") return { ok: true, found: { route: { venue: "paper", mode: "paper" } } };
    if (!policy.enabledVenues.has(plan.venue)) return deny(reason("venue_not_enabled", plan.venue));
    if (!policy.live) {
      if (policy.liveFallback === "deny") return deny(reason("venue_not_enabled", plan.venue));
      return { ok: true, found: { route: { venue: plan.venue, mode: "paper" } } };
    }
    if (mayGoLiveNow(plan, policy))
      return { ok: true, found: { route: { venue: plan.venue, mode: "live" } } };
    return deny(reason("venue_not_ready", plan.venue), {
      found: { route: { venue: plan.venue, mode: "live" } },
    });
  },
};

/**
 * The mode a plan's fills land in: `live` at a live venue with `live` on
 * (gate 10 sends it there or denies it), else `paper` (the paper venue, a
 * dry run).
 */
export function planMode(plan: Pick<Plan, "venue">, policy: Pick<Policy, "live">): PositionMode {
  return plan.venue !== "paper" && policy.live ? "live" : "paper";
}

/**
 * The second and third keys of the live guard: `INTENTGATE_LIVE=1`, and the
 * plan's venue ready for its account (the first, `live`, is the caller's).
 */
export function mayGoLiveNow(plan: Pick<Plan, "venue" | "account">, policy: Policy): boolean {
  const ready = policy.readyVenues.get(plan.venue);
  return policy.liveEnv && ready !== undefined && (ready.has("*") || ready.has(plan.account ?? ""));
}

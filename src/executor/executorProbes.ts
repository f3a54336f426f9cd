import type { VenueName } from "../core/plan.js";
import type { ProbeAnswer } from "../ops/metrics.js";
import { type BusClockStatus, describeOffset } from "./busClockGuard.js";
import type { BusEvictionStatus } from "./busEvictionGuard.js";
import type { DeploymentStatus } from "./deploymentGuard.js";

/** Longest gap between two turns of the executor's loop that `/healthz` still calls alive. */
export const LOOP_STALL_MS = 60_000;

/** What the probes read, each a snapshot of the running executor. */
export interface ProbeSources {
  readonly clock: () => number;
  /** When the executor's loop (or its wait for the bus) last went round; undefined once it stopped. */
  readonly lastTurnAt: () => number | undefined;
  /** The bus: not opened yet (with the last cause), connection lost (with its cause), or up. */
  readonly bus: () => { readonly up: boolean; readonly detail: string };
  /** Undefined until the bus is open. */
  readonly deployment: () => DeploymentStatus | undefined;
  /** The executor's clock against the bus's; undefined until the bus is open. */
  readonly busClock: () => BusClockStatus | undefined;
  /** Whether the bus may evict keys; undefined until the bus is open. */
  readonly busEviction: () => BusEvictionStatus | undefined;
  /** Live trading on (`live: true`) and `INTENTGATE_LIVE=1` given. */
  readonly live: () => { readonly config: boolean; readonly env: boolean };
  /** The configured live venues, with whether each is ready and why. */
  readonly venues: () => ReadonlyArray<{
    readonly venue: VenueName;
    readonly ready: boolean;
    readonly detail: string;
  }>;
}

/** `GET /healthz` (wire-v1 §8): 200 while the loop runs (it went round within {@link LOOP_STALL_MS}). */
export function healthz(src: ProbeSources): ProbeAnswer {
  const at = src.lastTurnAt();
  if (at === undefined) return { ok: false, body: { loop: "stopped" } };
  const idle = src.clock() - at;
  return idle <= LOOP_STALL_MS
    ? { ok: true, body: { loop: "running" } }
    : { ok: false, body: { loop: `stalled for ${idle} ms` } };
}

/**
 * `GET /readyz` (wire-v1 §8): 200 only while the bus is reachable, the
 * deployment marker is the one the executor decides under, the executor's
 * clock agrees with the bus's (`bus_clock`, once compared), the bus never
 * evicts keys (`bus_eviction`, once read), and (with
 * `live: true`) `INTENTGATE_LIVE=1` is set and every configured live venue is
 * ready; else 503. The body says, per check, ok or why not.
 */
export function readyz(src: ProbeSources): ProbeAnswer {
  const checks: Record<string, { ok: boolean; detail: string }> = {};
  const bus = src.bus();
  checks.bus = { ok: bus.up, detail: bus.detail };
  const d = src.deployment();
  checks.deployment = deploymentCheck(d);
  const clock = src.busClock();
  if (clock?.state === "skewed")
    checks.bus_clock = {
      ok: false,
      detail: `${describeOffset(clock.offsetMs)} (max_bus_clock_skew_ms ${clock.toleranceMs}): deciding nothing`,
    };
  else if (clock?.state === "ok")
    checks.bus_clock = {
      ok: true,
      detail: `agrees with the bus's (off by at most the round trip, at least ${Math.abs(clock.offsetMs)} ms)`,
    };
  const eviction = src.busEviction();
  if (eviction?.state === "evicting")
    checks.bus_eviction = {
      ok: false,
      detail: `maxmemory-policy ${eviction.policy}: the bus may evict claims, marks or positions; deciding nothing until it is noeviction`,
    };
  else if (eviction?.state === "ok")
    checks.bus_eviction = { ok: true, detail: "maxmemory-policy noeviction: the bus keeps every key" };
  const live = src.live();
  if (live.config) {
    checks.live_env = live.env
      ? { ok: true, detail: "INTENTGATE_LIVE=1" }
      : {
          ok: false,
          detail: "live: true but INTENTGATE_LIVE=1 is not set: every live plan is denied venue_not_ready",
        };
    for (const v of src.venues()) checks[`venue:${v.venue}`] = { ok: v.ready, detail: v.detail };
  }
  return { ok: Object.values(checks).every((c) => c.ok), body: { checks } };
}

function deploymentCheck(d: DeploymentStatus | undefined): { ok: boolean; detail: string } {
  if (d === undefined) return { ok: false, detail: "bus not open yet" };
  switch (d.state) {
    case "ok":
      return { ok: true, detail: d.id };
    case "waiting":
      return { ok: false, detail: "no deployment marker: run `intentgate init --config F`" };
    case "lost":
      return {
        ok: false,
        detail:
          d.found === undefined
            ? `deployment ${d.expected} lost (the marker is gone: the bus lost its data); run \`intentgate init\``
            : `deployment marker changed from ${d.expected} to ${d.found}; run \`intentgate init --force\` to confirm`,
      };
  }
}

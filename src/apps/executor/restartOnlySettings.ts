import type { ExecutorConfig } from "../../config/configSchema.js";

/**
 * Config keys a `SIGHUP` reload does not apply: the bus, the consumer group's
 * claim settings, the bus clock tolerance, the metrics listener, the logger, and everything opened
 * once at start — the signing plane and the live venues (their connections,
 * credentials and accounts; `venues.paper.prices` does reload). Changing one needs a restart; the reload applies
 * the rest (sources, keys, limits, permits, reference prices, `live`,
 * `live_fallback`, `exit_owner`, …) and logs a warning naming these.
 *
 * Venues and signing are not reopened on reload on purpose: an order in
 * flight holds its venue and its signed payload until it is resolved, and
 * swapping either under it would leave a send whose outcome nobody reads.
 * A restart drains the batch in hand first (SIGTERM), then reconciles.
 */
export const RESTART_ONLY_SETTINGS = [
  "bus",
  "prefix",
  "batch_size",
  "claim_idle_ms",
  "max_bus_clock_skew_ms",
  "max_deliveries",
  "metrics_port",
  "log_level",
  "signing",
  "venues",
  "reconcile_interval_ms",
] as const satisfies ReadonlyArray<keyof ExecutorConfig>;

/** What of a restart-only key is fixed: of `venues`, the live venues (`venues.paper.prices` reloads). */
const fixedPart = (config: ExecutorConfig, key: (typeof RESTART_ONLY_SETTINGS)[number]): string =>
  JSON.stringify(key === "venues" ? { ...config.venues, paper: undefined } : config[key]);

/** The restart-only keys whose value differs between two configs. */
export function restartOnlyChanges(before: ExecutorConfig, after: ExecutorConfig): string[] {
  return RESTART_ONLY_SETTINGS.filter((k) => fixedPart(before, k) !== fixedPart(after, k));
}

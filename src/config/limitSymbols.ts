import type { ExecutorConfig } from "./configSchema.js";

/** The `limits` maps keyed by symbol (`*`: every symbol they do not name). */
export const PER_SYMBOL_LIMITS = ["max_qty", "price_band_pct", "max_position"] as const;

/** A per-symbol limit entry whose symbol no configured venue lists. */
export interface LimitNamingNothing {
  /** `limits.<limit>.<symbol>`. */
  readonly path: string;
  readonly limit: (typeof PER_SYMBOL_LIMITS)[number];
  readonly symbol: string;
}

/**
 * The per-symbol limit entries (`limits.max_qty`, `limits.price_band_pct`,
 * `limits.max_position`) that name a symbol `known` says no configured venue
 * lists. wire-v1 leaves a symbol a map does not name unchecked, so a typo
 * (`BTCUSTD`) silently leaves the real symbol without its cap: the executor
 * warns about each at start and on reload.
 */
export function limitsNamingNothing(
  limits: ExecutorConfig["limits"],
  known: (symbol: string) => boolean,
): LimitNamingNothing[] {
  const out: LimitNamingNothing[] = [];
  for (const limit of PER_SYMBOL_LIMITS) {
    for (const symbol of Object.keys(limits[limit] ?? {}))
      if (symbol !== "*" && !known(symbol)) out.push({ path: `limits.${limit}.${symbol}`, limit, symbol });
  }
  return out;
}

import type { ExecutorConfig } from "../../config/configSchema.js";
import { limitsNamingNothing } from "../../config/limitSymbols.js";
import type { VenueName } from "../../core/plan.js";
import { type LivePrice, livePriceKey } from "../../core/referencePrice.js";
import type { Logger } from "../../ops/logger.js";

/**
 * Warns about each per-symbol limit entry whose symbol no configured venue
 * lists (`config/limitSymbols.ts`): the paper venue's configured prices, the
 * Polymarket tokens in `markets`, and every symbol a live venue's last price
 * poll returned. Run at start, after the first poll, and on every reload.
 * Skipped (one debug line) while a configured Binance venue has returned no
 * prices yet, since its symbols are known only from them.
 */
export function warnLimitsNamingNothing(opts: {
  readonly config: ExecutorConfig;
  readonly venues: Iterable<VenueName>;
  readonly prices: ReadonlyMap<string, LivePrice>;
  readonly logger: Pick<Logger, "warn" | "debug">;
}): void {
  const { config, prices, logger } = opts;
  const venues = [...opts.venues];
  const binance = config.venues["binance-usdm"] !== undefined;
  if (binance && ![...prices.keys()].some((k) => k.startsWith(livePriceKey("binance-usdm", ""))))
    return void logger.debug("per-symbol limits not checked against Binance's symbols: none read yet");
  const paper = config.venues.paper?.prices ?? {};
  const markets = new Set(config.venues.polymarket?.markets ?? []);
  const known = (symbol: string) =>
    Object.hasOwn(paper, symbol) ||
    markets.has(symbol) ||
    venues.some((v) => prices.has(livePriceKey(v, symbol)));
  for (const x of limitsNamingNothing(config.limits, known))
    logger.warn(
      { limit: x.limit, symbol: x.symbol },
      `${x.path} names a symbol no configured venue lists (venues.paper.prices, venues.polymarket.markets, a live venue's prices): it caps no plan; if it is a typo, the symbol meant has no ${x.limit}`,
    );
}

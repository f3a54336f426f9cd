import type { ExecutorConfig } from "../../config/configSchema.js";
import { type Decimal, formatDecimal, storedDecimal } from "../../core/decimal.js";
import type { VenueName } from "../../core/plan.js";
import type { Backend } from "../../ports/backend.js";
import type { LedgerPosition } from "../../ports/ledger.js";
import type { Venue, VenuePosition } from "../../ports/venue.js";
import type { PositionSource } from "../../watcher/positionWatch.js";

/**
 * What the watcher reads (issue 12): the paper ledger (unless
 * `watch.positions.paper` is false), and every account configured under each
 * live venue. A live venue without an adapter (no `signing` section: reads
 * are signed by the signing plane) is still a source, one whose reads fail
 * and say why, so the watcher alerts `venue_unreadable` instead of
 * watching nothing in silence.
 */
export function positionSources(
  config: ExecutorConfig,
  backend: Pick<Backend, "positions">,
  venues: ReadonlyMap<VenueName, Venue>,
): PositionSource[] {
  const sources: PositionSource[] = [];
  if (config.watch.positions.paper)
    sources.push({
      book: "paper",
      read: async () => ({ ok: true, positions: paperBook(await backend.positions()) }),
    });
  const live = [
    ["binance-usdm", config.venues["binance-usdm"]?.accounts],
    ["polymarket", config.venues.polymarket?.accounts],
  ] as const;
  for (const [book, accounts] of live) {
    if (accounts === undefined) continue;
    const venue = venues.get(book);
    for (const account of Object.keys(accounts))
      sources.push({
        book,
        account,
        read: () =>
          venue === undefined
            ? Promise.resolve({
                ok: false,
                detail: "no signing section: venue reads are signed by the signing plane",
              })
            : venue.positions(account),
      });
  }
  return sources;
}

/**
 * The watcher's `paper` book: every position the ledger holds in `paper`
 * mode (the paper venue's and each live venue's dry run, kept apart in the
 * ledger) summed per account and symbol, as the watcher explains paper fills
 * whatever their venue. Positions filled live are left out: the watcher
 * reads those from the venue. A stored quantity that is not a decimal
 * throws, so the read fails and is alerted, never summed on a guess.
 */
export function paperBook(positions: readonly LedgerPosition[]): VenuePosition[] {
  const sums = new Map<string, { account: string; symbol: string; qty: Decimal }>();
  for (const p of positions) {
    if (p.mode !== "paper") continue;
    const key = JSON.stringify([p.account, p.symbol]);
    const qty = storedDecimal(p.qty, `position of ${p.account} in ${p.symbol} (${p.venue})`);
    const sum = sums.get(key);
    sums.set(key, { account: p.account, symbol: p.symbol, qty: ((sum?.qty ?? 0n) + qty) as Decimal });
  }
  return [...sums.values()]
    .filter((s) => s.qty !== 0n)
    .map((s) => ({ account: s.account, symbol: s.symbol, qty: formatDecimal(s.qty) }));
}

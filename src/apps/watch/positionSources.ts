import type { ExecutorConfig } from "../../config/configSchema.js";
import type { VenueName } from "../../core/plan.js";
import type { Backend } from "../../ports/backend.js";
import type { Venue } from "../../ports/venue.js";
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
      read: async () => ({ ok: true, positions: await backend.positions() }),
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

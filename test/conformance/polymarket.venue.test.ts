import type { Venue } from "../../src/ports/venue.js";
import { openPolymarketWorld, PM_ADDRESS, PM_TOKEN } from "../support/polymarketWorld.js";
import { venueConformance } from "./venueConformance.js";

/**
 * The Polymarket adapter against the CLOB emulator, signing through a real
 * local plane. Polymarket has no client order id: an order is found by its
 * order hash (`ref.venueRef`), so the world remembers which hashes `prepare`
 * fixed for each client order id to count what the emulator holds.
 *
 * Declared differences: a position is a token balance (never short), so
 * positions are not signed and the suite's reduce-only cases (which reduce a
 * short with a BUY) do not apply; the adapter's own reduce-only rule (a SELL
 * of at most the held balance, `venue_error:reduce_only_rejected`) is tested
 * in src/adapters/polymarket/polymarketVenue.test.ts.
 */
venueConformance("polymarket (emulator)", async () => {
  const w = await openPolymarketWorld();
  const hashes = new Map<string, Set<string>>();
  const inner = w.venue;
  const venue: Venue = {
    name: inner.name,
    inFlightMs: inner.inFlightMs,
    async prepare(order, guard) {
      const out = await inner.prepare(order, guard);
      if (out.ok) {
        const set = hashes.get(order.clientOrderId) ?? new Set<string>();
        set.add(out.prepared.ref.venueRef);
        hashes.set(order.clientOrderId, set);
      }
      return out;
    },
    send: (p) => inner.send(p),
    lookup: (r) => inner.lookup(r),
    positions: (a) => inner.positions(a),
    marketPrices: (s) => inner.marketPrices(s),
    readiness: () => inner.readiness(),
    cancel: (r) => inner.cancel(r),
    keepAlive: (r) => inner.keepAlive(r),
    close: () => inner.close(),
  };
  return {
    venue,
    account: "acct-pm",
    symbol: PM_TOKEN,
    qty: "10",
    limitPrice: "0.57",
    referencePrice: "0.5",
    async setPosition(qty) {
      w.emulator.setBalance(PM_ADDRESS, PM_TOKEN, qty);
    },
    async ordersAt(id) {
      const mine = hashes.get(id) ?? new Set<string>();
      return w.emulator.orders().filter((o) => mine.has(o.orderHash)).length;
    },
    async orderRequests() {
      return w.orderPosts();
    },
    ruleBreaks: [
      {
        name: "reference price off the tick",
        change: { referencePrice: "0.505" },
        reason: "invalid_plan:tick_size",
      },
      {
        name: "LIMIT price off the tick",
        change: { type: "LIMIT", price: "0.575" },
        reason: "invalid_plan:tick_size",
      },
      { name: "LIMIT price at 1", change: { type: "LIMIT", price: "1" }, reason: "invalid_plan:price_range" },
      { name: "qty with 3 decimals", change: { qty: "10.005" }, reason: "invalid_plan:lot_size" },
      { name: "qty below the market's minimum", change: { qty: "4" }, reason: "invalid_plan:min_size" },
      {
        name: "FOK BUY whose USDC has 3 decimals",
        change: { qty: "10.01" },
        reason: "invalid_plan:amount_precision",
      },
      {
        name: "FOK BUY under 1 USDC",
        change: { qty: "5", referencePrice: "0.1" },
        reason: "limit:min_notional",
      },
      {
        name: "MARKET without a reference price",
        change: { referencePrice: undefined },
        reason: "limit:no_reference_price",
      },
      {
        name: "a token the CLOB does not know",
        change: { symbol: "12345" },
        reason: "invalid_plan:unknown_symbol",
      },
      {
        name: "a symbol that is not a token id",
        change: { symbol: "BTCUSDT" },
        reason: "invalid_plan:token_id",
      },
    ],
    traits: {
      reduceOnly: { refusedAt: "unsupported" },
      clientOrderId: { maxLength: 64, pattern: /^[.A-Z:/a-z0-9_-]{1,64}$/ },
      limitStatus: "filled",
      signedPositions: false,
    },
    close: () => w.close(),
  };
});

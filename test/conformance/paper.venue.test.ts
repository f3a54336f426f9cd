import { createPaperVenue } from "../../src/adapters/paper/paperVenue.js";
import { venueConformance } from "./venueConformance.js";

venueConformance("paper", async () => {
  const venue = createPaperVenue({ prices: { BTCUSDT: "65000" } });
  const account = "acct-paper";
  return {
    venue,
    account,
    symbol: "BTCUSDT",
    qty: "0.25",
    limitPrice: "64000.5",
    referencePrice: "65000",
    async setPosition(qty) {
      venue.setPosition(account, "BTCUSDT", qty);
    },
    async ordersAt(id) {
      return venue.orders().filter((o) => o.clientOrderId === id).length;
    },
    async orderRequests() {
      return venue.orders().length;
    },
    ruleBreaks: [
      { name: "qty zero", change: { qty: "0" }, reason: "invalid_plan:qty" },
      {
        name: "LIMIT without price",
        change: { type: "LIMIT", price: undefined },
        reason: "invalid_plan:price",
      },
      {
        name: "MARKET with no reference price",
        change: { symbol: "NOPRICEUSDT", referencePrice: undefined },
        reason: "limit:no_reference_price",
      },
    ],
    traits: {
      reduceOnly: { refusedAt: "send", reason: "venue_error:reduce_only_rejected" },
      clientOrderId: { maxLength: 64, pattern: /^[.A-Z:/a-z0-9_-]{1,64}$/ },
      limitStatus: "filled",
      signedPositions: true,
    },
    close: () => venue.close(),
  };
});

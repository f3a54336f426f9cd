import { openBinanceHarness } from "../support/binanceHarness.js";
import { venueConformance } from "./venueConformance.js";

venueConformance("binance-usdm (emulator)", async () => {
  const h = await openBinanceHarness();
  const symbol = "BTCUSDT";
  h.emulator.state.setMarkPrice(symbol, "65000");
  return {
    venue: h.venue,
    account: h.account,
    symbol,
    qty: "0.01",
    // Below the mark: a GTC LIMIT BUY rests on the book.
    limitPrice: "64000.5",
    referencePrice: "65000",
    async setPosition(qty) {
      h.emulator.state.setPosition(h.account, symbol, qty);
    },
    async ordersAt(id) {
      return h.emulator.state.countOrders(id, h.account);
    },
    async orderRequests() {
      return h.emulator.requests("order").length;
    },
    ruleBreaks: [
      {
        name: "MARKET qty below MARKET_LOT_SIZE min",
        change: { qty: "0.0001" },
        reason: "invalid_plan:market_lot_size",
      },
      {
        name: "MARKET qty above MARKET_LOT_SIZE max",
        change: { qty: "121" },
        reason: "invalid_plan:market_lot_size",
      },
      {
        name: "LIMIT qty off the LOT_SIZE step",
        change: { type: "LIMIT", price: "64000.5", qty: "0.0105" },
        reason: "invalid_plan:lot_size",
      },
      {
        name: "LIMIT price off the tick",
        change: { type: "LIMIT", price: "64000.55" },
        reason: "invalid_plan:price_filter",
      },
      {
        name: "LIMIT price below min",
        change: { type: "LIMIT", price: "100" },
        reason: "invalid_plan:price_filter",
      },
      { name: "notional below MIN_NOTIONAL", change: { qty: "0.001" }, reason: "limit:min_notional" },
      {
        name: "MARKET without a reference price (MIN_NOTIONAL cannot be checked)",
        change: { referencePrice: undefined },
        reason: "limit:no_reference_price",
      },
      { name: "unknown symbol", change: { symbol: "NOSUCHUSDT" }, reason: "invalid_plan:unknown_symbol" },
    ],
    traits: {
      reduceOnly: { refusedAt: "send", reason: "venue_error:reduce_only_rejected" },
      clientOrderId: { maxLength: 36, pattern: /^[.A-Z:/a-z0-9_-]{1,36}$/ },
      limitStatus: "open",
      signedPositions: true,
    },
    close: () => h.close(),
  };
});

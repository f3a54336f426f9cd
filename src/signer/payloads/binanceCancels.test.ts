import { describe, expect, it } from "vitest";
import type { BindOutcome } from "../payloadKind.js";
import { actionSpec } from "./actions.js";
import { BINANCE_CANCEL_ACTIONS } from "./binanceCancels.js";
import { bindBinanceQuery } from "./binanceQuery.js";

type Target = Record<string, unknown>;

const TS = "timestamp=1700000000000";
const bind = (query: string, target: Target): BindOutcome =>
  bindBinanceQuery({ kind: "hmac-query", query }, target);
const field = (outcome: BindOutcome): string => (outcome.ok ? "ok" : outcome.field);
const time = { timestamp: { ms: 1_700_000_000_000, resolutionMs: 1 }, recvWindowMs: 5000 };

const CANCEL: Target = {
  venue: "binance-usdm",
  action: "cancel",
  symbol: "BTCUSDT",
  client_order_id: "ig-p1",
};
const CANCEL_ALL: Target = { venue: "binance-usdm", action: "cancel_all", symbol: "BTCUSDT" };
const COUNTDOWN: Target = { venue: "binance-usdm", action: "countdown", symbol: "BTCUSDT" };

describe("hmac-query bind: cancel (DELETE /fapi/v1/order)", () => {
  it("binds symbol and origClientOrderId; acts (not a read), no order effect", () => {
    expect(bind(`symbol=BTCUSDT&origClientOrderId=ig-p1&recvWindow=5000&${TS}`, CANCEL)).toEqual({
      ok: true,
      effect: { venue: "binance-usdm", action: "cancel", symbol: "BTCUSDT", replayableRead: false, ...time },
    });
  });

  it("binds symbol and orderId when the target names the venue's order id", () => {
    const { client_order_id: _, ...byId } = CANCEL;
    expect(field(bind(`symbol=BTCUSDT&orderId=8389765&${TS}`, { ...byId, order_id: "8389765" }))).toBe("ok");
    expect(field(bind(`symbol=BTCUSDT&orderId=8389766&${TS}`, { ...byId, order_id: "8389765" }))).toBe(
      "order_id",
    );
    expect(field(bind(`symbol=BTCUSDT&orderId=08389765&${TS}`, { ...byId, order_id: "08389765" }))).toBe(
      "order_id",
    );
    expect(field(bind(`symbol=BTCUSDT&orderId=-1&${TS}`, { ...byId, order_id: "-1" }))).toBe("order_id");
  });

  it.each<[string, string, Target, string]>([
    // An order dressed as a cancel: every order parameter is outside the cancel's set.
    ["side on a cancel", `symbol=BTCUSDT&origClientOrderId=ig-p1&side=BUY&${TS}`, CANCEL, "query"],
    ["quantity on a cancel", `symbol=BTCUSDT&origClientOrderId=ig-p1&quantity=1&${TS}`, CANCEL, "query"],
    ["price on a cancel", `symbol=BTCUSDT&origClientOrderId=ig-p1&price=1&${TS}`, CANCEL, "query"],
    ["type on a cancel", `symbol=BTCUSDT&origClientOrderId=ig-p1&type=MARKET&${TS}`, CANCEL, "query"],
    [
      "a whole order on a cancel",
      `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId=ig-p1&${TS}`,
      CANCEL,
      "query",
    ],
    ["an unknown parameter", `symbol=BTCUSDT&origClientOrderId=ig-p1&foo=1&${TS}`, CANCEL, "query"],
    [
      "a repeated parameter",
      `symbol=BTCUSDT&origClientOrderId=ig-p1&origClientOrderId=x&${TS}`,
      CANCEL,
      "query",
    ],
    ["a repeated symbol", `symbol=BTCUSDT&symbol=ETHUSDT&origClientOrderId=ig-p1&${TS}`, CANCEL, "query"],
    [
      "both references",
      `symbol=BTCUSDT&origClientOrderId=ig-p1&orderId=1&${TS}`,
      { ...CANCEL, order_id: "1" },
      "query",
    ],
    ["no reference", `symbol=BTCUSDT&${TS}`, CANCEL, "client_order_id"],
    ["another order", `symbol=BTCUSDT&origClientOrderId=ig-p2&${TS}`, CANCEL, "client_order_id"],
    ["another symbol", `symbol=ETHUSDT&origClientOrderId=ig-p1&${TS}`, CANCEL, "symbol"],
    ["no symbol", `origClientOrderId=ig-p1&${TS}`, CANCEL, "symbol"],
    [
      "target without symbol",
      `symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}`,
      { ...CANCEL, symbol: undefined },
      "symbol",
    ],
    [
      "target without reference",
      `symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}`,
      { ...CANCEL, client_order_id: undefined },
      "client_order_id",
    ],
    [
      "target names an order id too",
      `symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}`,
      { ...CANCEL, order_id: "1" },
      "order_id",
    ],
    [
      "a malformed client id",
      `symbol=BTCUSDT&origClientOrderId=ig%20p1&${TS}`,
      { ...CANCEL, client_order_id: "ig p1" },
      "client_order_id",
    ],
    ["no timestamp", "symbol=BTCUSDT&origClientOrderId=ig-p1", CANCEL, "timestamp"],
    ["a signature inside", `symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}&signature=ab`, CANCEL, "signature"],
  ])("%s → payload_mismatch:%s", (_name, query, target, expected) => {
    const cleaned = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined));
    expect(field(bind(query, cleaned))).toBe(expected);
  });
});

describe("hmac-query bind: cancel_all (DELETE /fapi/v1/allOpenOrders)", () => {
  it("binds the symbol, and nothing but the symbol", () => {
    expect(bind(`symbol=BTCUSDT&${TS}`, CANCEL_ALL)).toEqual({
      ok: true,
      effect: {
        venue: "binance-usdm",
        action: "cancel_all",
        symbol: "BTCUSDT",
        replayableRead: false,
        ...time,
      },
    });
    expect(field(bind(`symbol=ETHUSDT&${TS}`, CANCEL_ALL))).toBe("symbol");
    expect(field(bind(TS, CANCEL_ALL))).toBe("symbol");
    expect(field(bind(`symbol=BTCUSDT&${TS}`, { ...CANCEL_ALL, symbol: undefined }))).toBe("symbol");
    expect(field(bind(`symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}`, CANCEL_ALL))).toBe("query");
    expect(field(bind(`symbol=BTCUSDT&side=SELL&${TS}`, CANCEL_ALL))).toBe("query");
  });
});

describe("hmac-query bind: countdown (POST /fapi/v1/countdownCancelAll)", () => {
  it("binds the symbol and carries countdownTime for the signer's bound", () => {
    expect(bind(`symbol=BTCUSDT&countdownTime=60000&${TS}`, COUNTDOWN)).toEqual({
      ok: true,
      effect: {
        venue: "binance-usdm",
        action: "countdown",
        symbol: "BTCUSDT",
        countdownMs: 60_000,
        replayableRead: false,
        ...time,
      },
    });
    expect(
      field(bind(`symbol=BTCUSDT&countdownTime=60000&${TS}`, { ...COUNTDOWN, countdown_ms: 60_000 })),
    ).toBe("ok");
    // 0 decodes (it is Binance's "disarm"); the signer's policy refuses it (policy:countdown).
    expect(bind(`symbol=BTCUSDT&countdownTime=0&${TS}`, COUNTDOWN)).toMatchObject({
      ok: true,
      effect: { countdownMs: 0 },
    });
  });

  it.each<[string, string, Target, string]>([
    ["a negative countdownTime", "symbol=BTCUSDT&countdownTime=-1", COUNTDOWN, "countdownTime"],
    ["a fractional countdownTime", "symbol=BTCUSDT&countdownTime=1000.5", COUNTDOWN, "countdownTime"],
    ["an exponent", "symbol=BTCUSDT&countdownTime=1e4", COUNTDOWN, "countdownTime"],
    ["a leading zero", "symbol=BTCUSDT&countdownTime=010000", COUNTDOWN, "countdownTime"],
    ["a plus sign", "symbol=BTCUSDT&countdownTime=%2B10000", COUNTDOWN, "countdownTime"],
    ["empty", "symbol=BTCUSDT&countdownTime=", COUNTDOWN, "countdownTime"],
    ["too long", "symbol=BTCUSDT&countdownTime=99999999999", COUNTDOWN, "countdownTime"],
    ["missing", "symbol=BTCUSDT", COUNTDOWN, "countdownTime"],
    ["repeated", "symbol=BTCUSDT&countdownTime=1000&countdownTime=0", COUNTDOWN, "query"],
    ["an extra parameter", "symbol=BTCUSDT&countdownTime=1000&side=BUY", COUNTDOWN, "query"],
    ["another symbol", "symbol=ETHUSDT&countdownTime=1000", COUNTDOWN, "symbol"],
    [
      "target states another time",
      "symbol=BTCUSDT&countdownTime=1000",
      { ...COUNTDOWN, countdown_ms: 2000 },
      "countdown_ms",
    ],
  ])("%s → payload_mismatch:%s", (_name, query, target, expected) => {
    expect(field(bind(`${query}&${TS}`, target))).toBe(expected);
  });
});

describe("hmac-query bind: open_orders (GET /fapi/v1/openOrders)", () => {
  it("symbol optional but the same on both sides; a read whose signature is replayable", () => {
    const read = { venue: "binance-usdm", action: "open_orders", replayableRead: true, ...time };
    expect(bind(TS, { action: "open_orders" })).toEqual({ ok: true, effect: read });
    expect(bind(`symbol=BTCUSDT&${TS}`, { action: "open_orders", symbol: "BTCUSDT" })).toEqual({
      ok: true,
      effect: { ...read, symbol: "BTCUSDT" },
    });
    expect(field(bind(`symbol=BTCUSDT&${TS}`, { action: "open_orders" }))).toBe("symbol");
    expect(field(bind(TS, { action: "open_orders", symbol: "BTCUSDT" }))).toBe("symbol");
    expect(
      field(bind(`symbol=BTCUSDT&origClientOrderId=x&${TS}`, { action: "open_orders", symbol: "BTCUSDT" })),
    ).toBe("query");
  });
});

describe("replay: Binance's HMAC covers parameters, not method or path", () => {
  it("every Binance read whose parameter set is also an acting endpoint's is replayable; acts are not reads", () => {
    // open_orders / position_risk with a symbol ≡ DELETE /fapi/v1/allOpenOrders (cancel_all);
    // query_order ≡ DELETE /fapi/v1/order (cancel).
    for (const action of ["query_order", "open_orders", "position_risk"]) {
      expect(actionSpec("hmac-query", action), action).toMatchObject({ read: true, replayable: true });
    }
    for (const action of ["cancel", "cancel_all", "countdown"]) {
      expect(actionSpec("hmac-query", action), action).toMatchObject({ read: false, cancels: true });
    }
    expect(actionSpec("hmac-query", "cancel")?.rate).toBe("cancel");
    expect(actionSpec("hmac-query", "cancel_all")?.rate).toBe("cancel");
    expect(actionSpec("hmac-query", "countdown")?.rate).toBe("keepalive");
  });

  it("the same query binds as a read on a read route and as a cancel on a cancel route: the route decides, the count follows", () => {
    const query = `symbol=BTCUSDT&${TS}`;
    expect(bind(query, { action: "open_orders", symbol: "BTCUSDT" })).toMatchObject({
      ok: true,
      effect: { replayableRead: true },
    });
    expect(bind(query, { action: "position_risk", symbol: "BTCUSDT" })).toMatchObject({
      ok: true,
      effect: { replayableRead: true },
    });
    expect(bind(query, CANCEL_ALL)).toMatchObject({ ok: true, effect: { action: "cancel_all" } });
    const byRef = `symbol=BTCUSDT&origClientOrderId=ig-p1&${TS}`;
    expect(bind(byRef, { action: "query_order", symbol: "BTCUSDT", client_order_id: "ig-p1" })).toMatchObject(
      {
        ok: true,
        effect: { replayableRead: true },
      },
    );
    expect(bind(byRef, CANCEL)).toMatchObject({ ok: true, effect: { action: "cancel" } });
  });

  it("no two actions of the table share a name with an order parameter set", () => {
    expect(Object.keys(BINANCE_CANCEL_ACTIONS).sort()).toEqual([
      "cancel",
      "cancel_all",
      "countdown",
      "open_orders",
    ]);
    for (const { params } of Object.values(BINANCE_CANCEL_ACTIONS)) {
      for (const orderOnly of ["side", "type", "quantity", "price", "reduceOnly", "newClientOrderId"]) {
        expect(params.has(orderOnly)).toBe(false);
      }
    }
  });
});

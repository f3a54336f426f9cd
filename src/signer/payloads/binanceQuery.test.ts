import { createHmac } from "node:crypto";
import { inspect } from "node:util";
import ccxt from "ccxt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { formatDecimal, parseDecimal } from "../../core/decimal.js";
import type { RevealedKey } from "../keyStore.js";
import type { BindOutcome } from "../payloadKind.js";
import { binanceQueryHandler, bindBinanceQuery, signBinanceQuery } from "./binanceQuery.js";

type Target = Record<string, unknown>;

/** Binance's documented USDⓈ-M example (REST "SIGNED endpoint examples"). */
const DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
const DOC_QUERY =
  "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
const DOC_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";

const hmacKey = (secret: string): RevealedKey => ({
  kind: "hmac",
  secret: new SecretBytes(Buffer.from(secret)),
});
const bind = (query: string, target: Target): BindOutcome =>
  bindBinanceQuery({ kind: "hmac-query", query }, target);
const field = (outcome: BindOutcome): string => (outcome.ok ? "ok" : outcome.field);

const ORDER_TARGET: Target = {
  venue: "binance-usdm",
  action: "order",
  symbol: "BTCUSDT",
  side: "BUY",
  type: "LIMIT",
  qty: "0.01",
  price: "65000.5",
  reduce_only: false,
  client_order_id: "ig-plan-1",
};
const ORDER_PARAMS: ReadonlyArray<readonly [string, string]> = [
  ["symbol", "BTCUSDT"],
  ["side", "BUY"],
  ["type", "LIMIT"],
  ["quantity", "0.010"],
  ["price", "65000.50"],
  ["timeInForce", "GTC"],
  ["reduceOnly", "false"],
  ["newClientOrderId", "ig-plan-1"],
  ["recvWindow", "5000"],
  ["timestamp", "1700000000000"],
];

/** The order query with some parameters replaced (a string), dropped (null) or appended. */
function orderQuery(changes: Record<string, string | null> = {}, extra = ""): string {
  const pairs = ORDER_PARAMS.flatMap(([name, value]) => {
    const next = Object.hasOwn(changes, name) ? changes[name] : value;
    return next === null || next === undefined ? [] : [`${name}=${next}`];
  });
  for (const [name, value] of Object.entries(changes)) {
    if (value !== null && !ORDER_PARAMS.some(([n]) => n === name)) pairs.push(`${name}=${value}`);
  }
  return pairs.join("&") + extra;
}

describe("hmac-query bind: order", () => {
  it("accepts the matching order and reports its effect: quantity, limit price, time (exact)", () => {
    const outcome = bind(orderQuery(), ORDER_TARGET);
    expect(outcome).toEqual({
      ok: true,
      effect: {
        venue: "binance-usdm",
        action: "order",
        symbol: "BTCUSDT",
        order: { qty: parseDecimal("0.01"), price: parseDecimal("65000.5") },
        timestamp: { ms: 1_700_000_000_000, resolutionMs: 1 },
        recvWindowMs: 5000,
        replayableRead: false,
      },
    });
    if (outcome.ok && outcome.effect.order?.price !== undefined) {
      expect(formatDecimal(outcome.effect.order.price)).toBe("65000.5");
    }
  });

  it.each<[string, string, Target, string]>([
    ["symbol differs", orderQuery({ symbol: "ETHUSDT" }), ORDER_TARGET, "symbol"],
    ["symbol missing", orderQuery({ symbol: null }), ORDER_TARGET, "symbol"],
    ["target has no symbol", orderQuery(), { ...ORDER_TARGET, symbol: undefined }, "symbol"],
    ["side differs", orderQuery({ side: "SELL" }), ORDER_TARGET, "side"],
    ["side in lowercase", orderQuery({ side: "buy" }), ORDER_TARGET, "side"],
    ["target side malformed", orderQuery(), { ...ORDER_TARGET, side: "long" }, "side"],
    ["type differs", orderQuery({ type: "MARKET", price: null }), ORDER_TARGET, "type"],
    ["type not allowed", orderQuery({ type: "STOP_MARKET" }), ORDER_TARGET, "type"],
    ["target type malformed", orderQuery(), { ...ORDER_TARGET, type: "STOP" }, "type"],
    [
      "inferred LIMIT (target price, no type) vs MARKET",
      orderQuery({ type: "MARKET", price: null }),
      { ...ORDER_TARGET, type: undefined },
      "type",
    ],
    ["quantity differs", orderQuery({ quantity: "0.011" }), ORDER_TARGET, "qty"],
    ["quantity in exponent form", orderQuery({ quantity: "1e-2" }), ORDER_TARGET, "qty"],
    ["quantity empty", orderQuery({ quantity: "" }), ORDER_TARGET, "qty"],
    ["quantity missing", orderQuery({ quantity: null }), ORDER_TARGET, "qty"],
    ["quantity negative", orderQuery({ quantity: "-0.01" }), ORDER_TARGET, "qty"],
    ["target qty malformed", orderQuery(), { ...ORDER_TARGET, qty: "1e-2" }, "qty"],
    ["target qty zero", orderQuery({ quantity: "0" }), { ...ORDER_TARGET, qty: "0" }, "qty"],
    ["price differs", orderQuery({ price: "65000.51" }), ORDER_TARGET, "price"],
    ["price missing on LIMIT", orderQuery({ price: null }), ORDER_TARGET, "price"],
    ["LIMIT target without price", orderQuery(), { ...ORDER_TARGET, price: undefined }, "price"],
    ["target price malformed", orderQuery(), { ...ORDER_TARGET, price: "cheap" }, "price"],
    [
      "price on a MARKET order",
      orderQuery({ type: "MARKET", timeInForce: null }),
      { ...ORDER_TARGET, type: "MARKET" },
      "price",
    ],
    ["reduceOnly true, target false", orderQuery({ reduceOnly: "true" }), ORDER_TARGET, "reduce_only"],
    [
      "reduceOnly absent, target true",
      orderQuery({ reduceOnly: null }),
      { ...ORDER_TARGET, reduce_only: true },
      "reduce_only",
    ],
    [
      "reduceOnly in uppercase",
      orderQuery({ reduceOnly: "TRUE" }),
      { ...ORDER_TARGET, reduce_only: true },
      "reduce_only",
    ],
    [
      "target reduce_only a string",
      orderQuery({ reduceOnly: "true" }),
      { ...ORDER_TARGET, reduce_only: "true" },
      "reduce_only",
    ],
    [
      "client order id differs",
      orderQuery({ newClientOrderId: "ig-plan-2" }),
      ORDER_TARGET,
      "client_order_id",
    ],
    ["client order id missing", orderQuery({ newClientOrderId: null }), ORDER_TARGET, "client_order_id"],
    [
      "client order id with a space",
      orderQuery({ newClientOrderId: "a%20b" }),
      { ...ORDER_TARGET, client_order_id: undefined },
      "client_order_id",
    ],
    ["timeInForce GTD", orderQuery({ timeInForce: "GTD" }), ORDER_TARGET, "timeInForce"],
    ["newOrderRespType FULL", orderQuery({ newOrderRespType: "FULL" }), ORDER_TARGET, "newOrderRespType"],
    ["positionSide unknown", orderQuery({ positionSide: "NET" }), ORDER_TARGET, "positionSide"],
    ["recvWindow above 60000", orderQuery({ recvWindow: "60001" }), ORDER_TARGET, "recvWindow"],
    ["recvWindow not an integer", orderQuery({ recvWindow: "5000.5" }), ORDER_TARGET, "recvWindow"],
    ["closePosition", orderQuery({ closePosition: "true" }), ORDER_TARGET, "query"],
    ["stopPrice", orderQuery({ stopPrice: "60000" }), ORDER_TARGET, "query"],
    ["a differently cased name", orderQuery({ Symbol: "ETHUSDT" }), ORDER_TARGET, "query"],
    ["repeated parameter", orderQuery({}, "&symbol=ETHUSDT"), ORDER_TARGET, "query"],
    ["repeated after percent-decoding", orderQuery({}, "&sym%62ol=ETHUSDT"), ORDER_TARGET, "query"],
    ["repeated with the same value", orderQuery({}, "&side=BUY"), ORDER_TARGET, "query"],
    ["signature inside the payload", orderQuery({ signature: "00" }), ORDER_TARGET, "signature"],
    ["timestamp missing", orderQuery({ timestamp: null }), ORDER_TARGET, "timestamp"],
    ["timestamp not an integer", orderQuery({ timestamp: "17e11" }), ORDER_TARGET, "timestamp"],
    ["action missing", orderQuery(), { ...ORDER_TARGET, action: undefined }, "action"],
    ["action unknown", orderQuery(), { ...ORDER_TARGET, action: "withdraw" }, "action"],
    [
      "an order's parameters on the cancel action",
      orderQuery(),
      { ...ORDER_TARGET, action: "cancel" },
      "query",
    ],
    ["venue differs", orderQuery(), { ...ORDER_TARGET, venue: "polymarket" }, "venue"],
    [
      "reference price malformed",
      orderQuery(),
      { ...ORDER_TARGET, reference_price: "-1" },
      "reference_price",
    ],
  ])("%s → payload_mismatch:%s", (_name, query, target, expected) => {
    const cleaned = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined));
    expect(field(bind(query, cleaned))).toBe(expected);
  });

  it.each<[string, string]>([
    ["empty", ""],
    ["a pair without =", "symbol"],
    ["an empty pair", "symbol=BTCUSDT&&timestamp=1"],
    ["a trailing &", "symbol=BTCUSDT&timestamp=1&"],
    ["an empty name", "=x&timestamp=1"],
    ["= inside a value", "symbol=BTC=USDT&timestamp=1"],
    ["a raw space", "symbol=BTC USDT&timestamp=1"],
    ["raw non-ASCII", "symbol=BTCÜSDT&timestamp=1"],
    ["a fragment", "symbol=BTCUSDT&timestamp=1#x"],
    ["a broken escape", "symbol=BTC%G0&timestamp=1"],
    ["a truncated escape", "symbol=BTC%2&timestamp=1"],
    ["invalid UTF-8", "symbol=BTC%C3&timestamp=1"],
    ["an overlong UTF-8 escape", "symbol=%C0%AF&timestamp=1"],
    ["too long", `symbol=${"A".repeat(9000)}&timestamp=1`],
  ])("malformed query (%s) → payload_mismatch:query", (_name, query) => {
    expect(field(bind(query, ORDER_TARGET))).toBe("query");
  });

  it("compares quantities and prices as exact decimals, not as text", () => {
    const target = { ...ORDER_TARGET, qty: 0.01, price: 65000.5 };
    expect(field(bind(orderQuery({ quantity: "0.0100000" }), target))).toBe("ok");
    expect(field(bind(orderQuery({ quantity: "0.010000000000000001" }), target))).toBe("qty");
  });

  it("decodes + and percent-escapes as application/x-www-form-urlencoded", () => {
    const target = { ...ORDER_TARGET, client_order_id: "ig:plan/1" };
    expect(field(bind(orderQuery({ newClientOrderId: "ig%3Aplan%2F1" }), target))).toBe("ok");
    expect(field(bind(orderQuery({ newClientOrderId: "ig:plan/1" }), target))).toBe("ok");
    expect(field(bind(orderQuery({ symbol: "BTC%55SDT" }), ORDER_TARGET))).toBe("ok");
    expect(field(bind(orderQuery({ symbol: "BTC+USDT" }), { ...ORDER_TARGET, symbol: "BTC USDT" }))).toBe(
      "ok",
    );
  });

  it("a MARKET order: no price, type inferred when the target has none; the caller's reference_price is never used", () => {
    const target: Target = {
      action: "order",
      symbol: "ETHUSDT",
      side: "SELL",
      qty: "2.5",
      reduce_only: true,
      reference_price: "0.01",
    };
    const query = "symbol=ETHUSDT&side=SELL&type=MARKET&quantity=2.5&reduceOnly=true&timestamp=1700000000000";
    const expected = {
      ok: true,
      effect: {
        venue: "binance-usdm",
        action: "order",
        symbol: "ETHUSDT",
        order: { qty: parseDecimal("2.5"), price: undefined },
        timestamp: { ms: 1_700_000_000_000, resolutionMs: 1 },
        recvWindowMs: 5000, // absent: Binance's default
        replayableRead: false,
      },
    };
    expect(bind(query, target)).toEqual(expected);
    const { reference_price: _, ...noReference } = target;
    expect(bind(query, noReference)).toEqual(expected);
    // Checked for form only (it is audited): a malformed claim is still a mismatch.
    expect(field(bind(query, { ...target, reference_price: "cheap" }))).toBe("reference_price");
  });

  it("reports recvWindow as given, and refuses one Binance would (over 60000)", () => {
    const e = bind(orderQuery({ recvWindow: "60000" }), ORDER_TARGET);
    expect(e.ok && e.effect.recvWindowMs).toBe(60000);
    expect(field(bind(orderQuery({ recvWindow: "60001" }), ORDER_TARGET))).toBe("recvWindow");
  });

  it("ignores target fields the payload cannot carry; reads only own target fields", () => {
    const inherited = Object.assign(Object.create({ client_order_id: "other" }) as Target, ORDER_TARGET);
    delete inherited.client_order_id;
    expect(field(bind(orderQuery({ newClientOrderId: "anything-1" }), inherited))).toBe("ok");
  });
});

describe("hmac-query bind: query_order and position_risk", () => {
  const target: Target = { action: "query_order", symbol: "BTCUSDT", client_order_id: "ig-plan-1" };

  it("query_order binds symbol and origClientOrderId", () => {
    const query = "symbol=BTCUSDT&origClientOrderId=ig-plan-1&recvWindow=5000&timestamp=1700000000000";
    expect(bind(query, target)).toEqual({
      ok: true,
      effect: {
        venue: "binance-usdm",
        action: "query_order",
        symbol: "BTCUSDT",
        // A read whose signature Binance would also take for DELETE /fapi/v1/order.
        replayableRead: true,
        timestamp: { ms: 1_700_000_000_000, resolutionMs: 1 },
        recvWindowMs: 5000,
      },
    });
    expect(field(bind(query.replace("BTCUSDT", "ETHUSDT"), target))).toBe("symbol");
    expect(field(bind(query.replace("ig-plan-1", "ig-plan-2"), target))).toBe("client_order_id");
    expect(field(bind(query, { ...target, client_order_id: 7 }))).toBe("client_order_id");
    expect(field(bind(`${query}&orderId=123`, target))).toBe("query");
    expect(field(bind("symbol=BTCUSDT&timestamp=1700000000000", target))).toBe("client_order_id");
  });

  it("position_risk: symbol optional, but the same on both sides", () => {
    const risk = { action: "position_risk" };
    const time = { timestamp: { ms: 1_700_000_000_000, resolutionMs: 1 }, recvWindowMs: 5000 };
    const read = { venue: "binance-usdm", action: "position_risk", replayableRead: true, ...time };
    expect(bind("timestamp=1700000000000", risk)).toEqual({ ok: true, effect: read });
    expect(bind("symbol=BTCUSDT&timestamp=1700000000000", { ...risk, symbol: "BTCUSDT" })).toEqual({
      ok: true,
      effect: { ...read, symbol: "BTCUSDT" },
    });
    expect(field(bind("timestamp=1700000000000", { ...risk, symbol: "BTCUSDT" }))).toBe("symbol");
    expect(field(bind("symbol=ETHUSDT&timestamp=1700000000000", { ...risk, symbol: "BTCUSDT" }))).toBe(
      "symbol",
    );
    expect(field(bind("symbol=ETHUSDT&timestamp=1700000000000", risk))).toBe("symbol");
    expect(field(bind("side=BUY&timestamp=1700000000000", risk))).toBe("query");
  });
});

describe("hmac-query bind: never throws", () => {
  const queryChars = fc.constantFrom(..."ab=&%+2FC3x0-._~;:@/?#é \u0000".split(""));
  const queries = fc.oneof(
    fc.string(),
    fc.string({ unit: queryChars, maxLength: 60 }),
    fc
      .array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })))
      .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")),
    fc.constant(orderQuery()),
  );
  const targets = fc.oneof(
    fc.constant(ORDER_TARGET),
    fc.dictionary(
      fc.constantFrom(
        "action",
        "symbol",
        "side",
        "type",
        "qty",
        "price",
        "reduce_only",
        "client_order_id",
        "venue",
        "reference_price",
        "__proto__",
      ),
      fc.oneof(
        fc.anything(),
        fc.constantFrom("order", "query_order", "position_risk", "BTCUSDT", "BUY", "LIMIT", "1"),
      ),
    ),
  );

  it("returns an outcome for any query and any target", () => {
    fc.assert(
      fc.property(queries, targets, (query, target) => {
        const outcome = bind(query, target);
        expect(typeof outcome.ok).toBe("boolean");
        if (!outcome.ok) expect(outcome.field).toMatch(/^[a-zA-Z_]+$/);
      }),
      { numRuns: 2000 },
    );
  });

  it("returns an outcome for payloads and targets of the wrong shape", () => {
    const odd = [null, undefined, 1, "x", [], { kind: "hmac-clob-l2" }, { kind: "hmac-query", query: 5 }];
    for (const payload of odd) {
      expect(bindBinanceQuery(payload as never, ORDER_TARGET).ok).toBe(false);
      expect(bindBinanceQuery({ kind: "hmac-query", query: orderQuery() }, payload as never).ok).toBe(false);
    }
  });

  it("binds every well-formed order built from its own target", () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.integer({ min: 0, max: 8 }))
      .map(([units, places]) => {
        const digits = units.toString().padStart(places + 1, "0");
        return places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
      });
    fc.assert(
      fc.property(
        decimal,
        decimal,
        fc.constantFrom("BUY", "SELL"),
        fc.boolean(),
        (qty, price, side, reduceOnly) => {
          const target = { action: "order", symbol: "BTCUSDT", side, qty, price, reduce_only: reduceOnly };
          const query = `symbol=BTCUSDT&side=${side}&type=LIMIT&quantity=${qty}&price=${price}&reduceOnly=${reduceOnly}&timestamp=1`;
          expect(bind(query, target).ok).toBe(true);
        },
      ),
    );
  });
});

describe("hmac-query sign", () => {
  it("is the handler registered for hmac-query", () => {
    expect(binanceQueryHandler.kind).toBe("hmac-query");
    expect(binanceQueryHandler.sign).toBe(signBinanceQuery);
  });

  it("cross-check (a): Binance's documented example, first with node:crypto, then through the handler", async () => {
    expect(createHmac("sha256", DOC_SECRET).update(DOC_QUERY).digest("hex")).toBe(DOC_SIGNATURE);
    const out = await signBinanceQuery({ kind: "hmac-query", query: DOC_QUERY }, hmacKey(DOC_SECRET));
    expect(out).toEqual({ signature: DOC_SIGNATURE });
    const docTarget = {
      action: "order",
      symbol: "BTCUSDT",
      side: "BUY",
      type: "LIMIT",
      qty: "1",
      price: "9000",
    };
    expect(bind(DOC_QUERY, docTarget)).toMatchObject({
      ok: true,
      effect: { symbol: "BTCUSDT", order: { qty: 10n ** 18n, price: 9000n * 10n ** 18n } },
    });
  });

  it("cross-check (b): equals ccxt binanceusdm's own signing of the same request, offline", async () => {
    const secret = "Zx8vQm3kT1pL9sR2wY6uB4nC7dE0fG5hJ2aK8bM1cN4vX7zQ3";
    const exchange = new ccxt.binanceusdm({
      apiKey: "test-key",
      secret,
      options: { adjustForTimeDifference: false },
    });
    exchange.nonce = () => 1591702613943;
    const requests: Array<{
      path: string;
      api: string;
      method: string;
      params: Record<string, unknown>;
      target: Target;
    }> = [
      {
        path: "order",
        api: "fapiPrivate",
        method: "POST",
        params: {
          symbol: "BTCUSDT",
          side: "BUY",
          type: "LIMIT",
          quantity: "0.010",
          price: "65000.5",
          timeInForce: "GTC",
          newClientOrderId: "ig:plan/1",
        },
        target: {
          action: "order",
          symbol: "BTCUSDT",
          side: "BUY",
          qty: "0.01",
          price: "65000.5",
          client_order_id: "ig:plan/1",
        },
      },
      {
        path: "order",
        api: "fapiPrivate",
        method: "POST",
        params: {
          symbol: "ETHUSDT",
          side: "SELL",
          type: "MARKET",
          quantity: "2.5",
          reduceOnly: "true",
          newClientOrderId: "ig-2",
          recvWindow: 5000,
        },
        target: {
          action: "order",
          symbol: "ETHUSDT",
          side: "SELL",
          qty: "2.5",
          reduce_only: true,
          client_order_id: "ig-2",
        },
      },
      {
        path: "order",
        api: "fapiPrivate",
        method: "GET",
        params: { symbol: "BTCUSDT", origClientOrderId: "ig-plan-1" },
        target: { action: "query_order", symbol: "BTCUSDT", client_order_id: "ig-plan-1" },
      },
      {
        path: "positionRisk",
        api: "fapiPrivateV3",
        method: "GET",
        params: { symbol: "BTCUSDT" },
        target: { action: "position_risk", symbol: "BTCUSDT" },
      },
    ];
    for (const request of requests) {
      const signed = exchange.sign(request.path, request.api, request.method, { ...request.params });
      const sent: string = request.method === "POST" ? signed.body : String(signed.url).split("?")[1];
      const match = /^(.*)&signature=([0-9a-f]{64})$/.exec(sent);
      expect(match, sent).not.toBeNull();
      const [, query, ccxtSignature] = match!;
      const ours = await signBinanceQuery({ kind: "hmac-query", query: query! }, hmacKey(secret));
      expect(ours.signature).toBe(ccxtSignature);
      // And the plane decodes what ccxt sends as the request the target describes.
      expect(field(bind(query!, request.target)), query).toBe("ok");
    }
  });

  it("canary: the secret never appears in errors, inspect output or JSON", async () => {
    const canary = "CANARY-binance-secret-5f1d";
    const key = hmacKey(canary);
    expect(inspect(key, { depth: 5 })).not.toContain(canary);
    expect(JSON.stringify(key)).not.toContain(canary);
    const failures: unknown[] = [];
    await signBinanceQuery({ kind: "hmac-query", query: 5 as never }, key).catch((e: unknown) =>
      failures.push(e),
    );
    await signBinanceQuery(
      { kind: "hmac-query", query: "a=1" },
      { kind: "secp256k1", privateKey: new SecretBytes(Buffer.from(canary)), address: "0x0" },
    ).catch((e: unknown) => failures.push(e));
    await signBinanceQuery({ kind: "hmac-query", query: "a=1" }, hmacKey("")).catch((e: unknown) =>
      failures.push(e),
    );
    expect(failures).toHaveLength(3);
    for (const failure of failures) {
      expect(inspect(failure, { depth: 5 })).not.toContain(canary);
      expect(String(failure)).not.toContain(canary);
    }
    const out = await signBinanceQuery({ kind: "hmac-query", query: DOC_QUERY }, key);
    expect(inspect(out)).not.toContain(canary);
  });
});

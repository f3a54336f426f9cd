import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import {
  Chain,
  createL2Headers,
  OrderBuilder,
  OrderType,
  orderToJsonV1,
  orderToJsonV2,
  Side,
  type TickSize,
} from "@polymarket/clob-client-v2";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { type Decimal, formatDecimal, parseDecimal } from "../../core/decimal.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import { KeyStoreError, type RevealedKey } from "../keyStore.js";
import type { BindOutcome } from "../payloadKind.js";
import { bindPolymarketL2, polymarketL2Handler, signPolymarketL2 } from "./polymarketL2.js";

type Target = Record<string, unknown>;
type L2Payload = Extract<SignPayload, { kind: "hmac-clob-l2" }>;

const TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
const ADDRESS = "0x1111111111111111111111111111111111111111";
const ZERO32 = `0x${"00".repeat(32)}`;
/** A stand-in ethers signer: an address and a fixed signature, no key, no network. */
const FAKE_SIGNER = {
  getAddress: async () => ADDRESS,
  _signTypedData: async () => `0x${"11".repeat(65)}`,
} as unknown as Parameters<typeof createL2Headers>[0];

const hmacKey = (secret: string | Buffer): RevealedKey => ({
  kind: "hmac",
  secret: new SecretBytes(Buffer.from(secret)),
});
const payload = (parts: Partial<L2Payload> = {}): L2Payload => ({
  kind: "hmac-clob-l2",
  timestamp: "1700000000",
  method: "POST",
  path: "/order",
  body: orderBody(),
  ...parts,
});
const field = (outcome: BindOutcome): string => (outcome.ok ? "ok" : outcome.field);
const dec = (text: string): Decimal => parseDecimal(text)!;

/** A POST /order body in orderToJsonV2's shape: BUY 10 shares at 0.57 (5.7 USDC). */
function orderBody(order: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  return JSON.stringify({
    deferExec: false,
    postOnly: false,
    order: {
      salt: 123456789,
      maker: ADDRESS,
      signer: ADDRESS,
      tokenId: TOKEN,
      makerAmount: "5700000",
      takerAmount: "10000000",
      side: "BUY",
      signatureType: 0,
      timestamp: "1700000000000",
      expiration: "0",
      metadata: ZERO32,
      builder: ZERO32,
      signature: `0x${"11".repeat(65)}`,
      ...order,
    },
    owner: "api-key-uuid",
    orderType: "GTC",
    ...top,
  });
}

const ORDER_TARGET: Target = {
  venue: "polymarket",
  action: "order",
  token_id: TOKEN,
  side: "BUY",
  qty: "10",
  price: "0.57",
};
/** What the signer's limits read from an order: 10 shares at 0.57, a share worth at most 1, the timestamp. */
const ORDER_EFFECT = {
  venue: "polymarket",
  action: "order",
  symbol: TOKEN,
  order: { qty: dec("10"), price: dec("0.57"), unitCap: dec("1") },
  replayableRead: false,
  timestamp: { ms: 1_700_000_000_000, resolutionMs: 1000 },
};

describe("hmac-clob-l2 bind: POST /order", () => {
  it("accepts the matching order; the effect is its shares, price, the 1 USDC cap and its time, exact", () => {
    expect(bindPolymarketL2(payload(), ORDER_TARGET)).toEqual({ ok: true, effect: ORDER_EFFECT });
  });

  it("reads a SELL as makerAmount shares for takerAmount USDC", () => {
    const body = orderBody({ side: "SELL", makerAmount: "10000000", takerAmount: "5700000" });
    expect(bindPolymarketL2(payload({ body }), { ...ORDER_TARGET, side: "SELL" })).toEqual({
      ok: true,
      effect: ORDER_EFFECT,
    });
  });

  it("takes the token from target.symbol when there is no token_id, and needs no price", () => {
    const { token_id: _, price: __, ...rest } = ORDER_TARGET;
    expect(field(bindPolymarketL2(payload(), { ...rest, symbol: TOKEN }))).toBe("ok");
  });

  it.each<[string, Partial<L2Payload>, Target, string]>([
    ["token differs", { body: orderBody({ tokenId: "1" }) }, ORDER_TARGET, "token_id"],
    [
      "token as a JSON number",
      { body: orderBody({ tokenId: 1 }) },
      { ...ORDER_TARGET, token_id: "1" },
      "token_id",
    ],
    ["token with a leading zero", { body: orderBody({ tokenId: `0${TOKEN}` }) }, ORDER_TARGET, "token_id"],
    [
      "token above uint256",
      { body: orderBody({ tokenId: "9".repeat(78) }) },
      { ...ORDER_TARGET, token_id: "9".repeat(78) },
      "token_id",
    ],
    ["target without a token", {}, { ...ORDER_TARGET, token_id: undefined }, "token_id"],
    ["target token malformed", {}, { ...ORDER_TARGET, token_id: "0x01" }, "token_id"],
    ["side differs", { body: orderBody({ side: "SELL" }) }, ORDER_TARGET, "side"],
    ["side in lowercase", { body: orderBody({ side: "buy" }) }, ORDER_TARGET, "side"],
    ["side as a number", { body: orderBody({ side: 0 }) }, ORDER_TARGET, "side"],
    ["target side missing", {}, { ...ORDER_TARGET, side: undefined }, "side"],
    ["more shares", { body: orderBody({ takerAmount: "10000001" }) }, ORDER_TARGET, "qty"],
    ["target qty differs", {}, { ...ORDER_TARGET, qty: "9.99" }, "qty"],
    ["target qty missing", {}, { ...ORDER_TARGET, qty: undefined }, "qty"],
    ["target qty below a base unit", {}, { ...ORDER_TARGET, qty: "10.0000001" }, "qty"],
    ["more USDC (a worse price)", { body: orderBody({ makerAmount: "5700001" }) }, ORDER_TARGET, "price"],
    ["less USDC (a different price)", { body: orderBody({ makerAmount: "5600000" }) }, ORDER_TARGET, "price"],
    ["target price differs", {}, { ...ORDER_TARGET, price: "0.56" }, "price"],
    ["target price malformed", {}, { ...ORDER_TARGET, price: "0,57" }, "price"],
    ["amounts as JSON numbers", { body: orderBody({ makerAmount: 5700000 }) }, ORDER_TARGET, "amounts"],
    ["a zero amount", { body: orderBody({ makerAmount: "0" }) }, ORDER_TARGET, "amounts"],
    [
      "an amount with a leading zero",
      { body: orderBody({ takerAmount: "010000000" }) },
      ORDER_TARGET,
      "amounts",
    ],
    ["an amount missing", { body: orderBody({ takerAmount: undefined }) }, ORDER_TARGET, "amounts"],
    [
      "a repeated key in the order",
      { body: orderBody().replace('"side":"BUY"', '"side":"BUY","side":"SELL"') },
      ORDER_TARGET,
      "body",
    ],
    [
      "a repeated key, escaped",
      { body: orderBody().replace('"owner"', '"\\u006frder":{},"owner"') },
      ORDER_TARGET,
      "body",
    ],
    ["not JSON", { body: "{order" }, ORDER_TARGET, "body"],
    ["a JSON array", { body: "[]" }, ORDER_TARGET, "body"],
    ["no order", { body: "{}" }, ORDER_TARGET, "body"],
    ["an order that is not an object", { body: '{"order":[1]}' }, ORDER_TARGET, "body"],
    ["timestamp with a fraction", { timestamp: "1700000000.5" }, ORDER_TARGET, "timestamp"],
    ["timestamp with a space", { timestamp: " 1700000000" }, ORDER_TARGET, "timestamp"],
    ["timestamp with a leading zero", { timestamp: "01700000000" }, ORDER_TARGET, "timestamp"],
    ["timestamp empty", { timestamp: "" }, ORDER_TARGET, "timestamp"],
    ["method PUT", { method: "PUT" }, ORDER_TARGET, "method"],
    ["method in lowercase", { method: "post" }, ORDER_TARGET, "method"],
    ["method differs from target", { method: "DELETE" }, { ...ORDER_TARGET, method: "POST" }, "method"],
    ["path without a leading /", { path: "order" }, ORDER_TARGET, "path"],
    ["path with a space", { path: "/or der" }, ORDER_TARGET, "path"],
    ["path differs from target", { path: "/order" }, { ...ORDER_TARGET, path: "/orders" }, "path"],
    ["batch orders", { path: "/orders" }, ORDER_TARGET, "path"],
    ["a trailing slash", { path: "/order/" }, ORDER_TARGET, "path"],
    ["uppercase", { path: "/ORDER" }, ORDER_TARGET, "path"],
    ["percent-encoded", { path: "/%6Frder" }, ORDER_TARGET, "path"],
    ["a doubled slash", { path: "//order" }, ORDER_TARGET, "path"],
    ["a backslash", { path: "\\order".replace("\\", "/\\") }, ORDER_TARGET, "path"],
    ["a dot segment", { path: "/x/../order" }, ORDER_TARGET, "path"],
    ["a query string", { path: "/order?a=1" }, ORDER_TARGET, "path"],
    ["an undecodable escape", { path: "/order%C3" }, ORDER_TARGET, "path"],
    ["a path parameter", { path: "/order;x" }, ORDER_TARGET, "path"],
    ["an encoded NUL", { path: "/order%00" }, ORDER_TARGET, "path"],
    ["another POST (not the route's path)", { path: "/orders-scoring", body: "[]" }, ORDER_TARGET, "path"],
    ["a DELETE on the order action", { method: "DELETE", body: "{}" }, ORDER_TARGET, "method"],
    ["no action in the target", {}, { ...ORDER_TARGET, action: undefined }, "action"],
    ["an action L2 cannot do", {}, { ...ORDER_TARGET, action: "withdraw" }, "action"],
    ["an order on the cancel-all action", {}, { ...ORDER_TARGET, action: "cancel_all" }, "method"],
    ["venue differs", {}, { ...ORDER_TARGET, venue: "binance-usdm" }, "venue"],
  ])("%s → payload_mismatch:%s", (_name, parts, target, expected) => {
    const cleaned = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined));
    expect(field(bindPolymarketL2(payload(parts), cleaned))).toBe(expected);
  });

  it("accepts a V1 body (clob-client orderToJsonV1 shape) the same way", () => {
    const body = orderBody({
      taker: ADDRESS,
      nonce: "0",
      feeRateBps: "0",
      timestamp: undefined,
      metadata: undefined,
    });
    expect(field(bindPolymarketL2(payload({ body }), ORDER_TARGET))).toBe("ok");
  });
});

describe("hmac-clob-l2 bind: other requests", () => {
  const HASH = `0x${"ab".repeat(32)}`;
  it.each<[string, string, string]>([
    ["open_orders", "GET", "/data/orders"],
    ["query_order", "GET", `/data/order/${HASH}`],
    ["api_keys", "GET", "/auth/api-keys"],
    ["balance", "GET", "/balance-allowance"],
  ])("%s is exactly %s %s, places no order, and carries its time", (action, method, path) => {
    expect(bindPolymarketL2(payload({ method, path, body: "" }), { venue: "polymarket", action })).toEqual({
      ok: true,
      effect: {
        venue: "polymarket",
        action,
        timestamp: { ms: 1_700_000_000_000, resolutionMs: 1000 },
        replayableRead: false,
      },
    });
  });

  it.each<[string, string, string, string, string]>([
    ["a cancel on a read route", "open_orders", "DELETE", "/order", "method"],
    ["cancel-all on a read route", "open_orders", "DELETE", "/cancel-all", "method"],
    ["another read's path", "open_orders", "GET", "/balance-allowance", "path"],
    ["a path with a query", "balance", "GET", "/balance-allowance?x=1", "path"],
    ["a malformed order hash", "query_order", "GET", "/data/order/0xabc", "path"],
    ["a hash with a trailing segment", "query_order", "GET", `/data/order/${HASH}/x`, "path"],
  ])("%s → payload_mismatch:%s", (_name, action, method, path, expected) => {
    expect(field(bindPolymarketL2(payload({ method, path, body: "" }), { action }))).toBe(expected);
  });

  it("a read has no body", () => {
    const p = payload({ method: "GET", path: "/data/orders", body: '{"x":1}' });
    expect(field(bindPolymarketL2(p, { action: "open_orders" }))).toBe("body");
  });

  it("binds method and path to the target when it names them", () => {
    const read = payload({ method: "GET", path: "/data/orders", body: "" });
    expect(
      field(bindPolymarketL2(read, { action: "open_orders", method: "GET", path: "/data/orders" })),
    ).toBe("ok");
    expect(field(bindPolymarketL2(read, { action: "open_orders", method: "DELETE" }))).toBe("method");
    expect(field(bindPolymarketL2(read, { action: "open_orders", path: "/orders" }))).toBe("path");
  });

  it("never throws, whatever the payload and target", () => {
    const text = fc.oneof(
      fc.string(),
      fc.constantFrom(
        "1700000000",
        "GET",
        "POST",
        "DELETE",
        "/order",
        "/orders",
        "/%6frder",
        "//order",
        orderBody(),
        "{}",
        "[]",
      ),
    );
    const targets = fc.oneof(
      fc.constant(ORDER_TARGET),
      fc.dictionary(
        fc.constantFrom("token_id", "symbol", "side", "qty", "price", "venue", "method", "path", "__proto__"),
        fc.oneof(fc.anything(), fc.constantFrom(TOKEN, "BUY", "SELL", "10", "0.57", "POST", "/order")),
      ),
    );
    fc.assert(
      fc.property(text, text, text, text, targets, (timestamp, method, path, body, target) => {
        const outcome = bindPolymarketL2({ kind: "hmac-clob-l2", timestamp, method, path, body }, target);
        expect(typeof outcome.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
    for (const odd of [
      null,
      undefined,
      7,
      "x",
      [],
      { kind: "hmac-query", query: "a=1" },
      { kind: "hmac-clob-l2" },
    ]) {
      expect(bindPolymarketL2(odd as never, ORDER_TARGET).ok).toBe(false);
      expect(bindPolymarketL2(payload(), odd as never).ok).toBe(false);
    }
  });
});

/** clob-client's own L2 signature for the same request. */
async function clobSignature(secret: string, p: L2Payload): Promise<string> {
  const creds = { key: "api-key-uuid", secret, passphrase: "passphrase" };
  const args = { method: p.method, requestPath: p.path, body: p.body };
  const headers = await createL2Headers(FAKE_SIGNER, creds, args, Number(p.timestamp));
  expect(headers.POLY_TIMESTAMP).toBe(p.timestamp);
  return headers.POLY_SIGNATURE;
}

describe("hmac-clob-l2 sign", () => {
  it("is the handler registered for hmac-clob-l2", () => {
    expect(polymarketL2Handler.kind).toBe("hmac-clob-l2");
    expect(polymarketL2Handler.sign).toBe(signPolymarketL2);
  });

  it("cross-check (c): equals clob-client-v2 createL2Headers' POLY_SIGNATURE for a fixed request", async () => {
    const secret = Buffer.from("intentgate-test-secret-32-bytes!").toString("base64");
    const p = payload();
    const ours = await signPolymarketL2(p, hmacKey(secret));
    expect(ours.signature).toBe(await clobSignature(secret, p));
    // urlsafe alphabet, padding kept: 32 bytes → 43 characters and one "=".
    expect(ours.signature).toMatch(/^[A-Za-z0-9_-]{43}=$/);
  });

  it("cross-check (c): equals clob-client for random secrets (standard or urlsafe, padded or not) and requests", async () => {
    const secretForm = fc.constantFrom(
      (b: Buffer) => b.toString("base64"),
      (b: Buffer) => b.toString("base64url"),
      (b: Buffer) => b.toString("base64").replace(/=+$/, ""),
      (b: Buffer) =>
        `${b.toString("base64url")}${"=".repeat((4 - (b.toString("base64url").length % 4)) % 4)}`,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        secretForm,
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.constantFrom("GET", "POST", "DELETE"),
        fc.constantFrom("/order", "/orders", "/data/orders", "/cancel-all", "/balance-allowance"),
        fc.oneof(fc.constant(""), fc.string(), fc.string({ unit: "grapheme" }), fc.json()),
        async (bytes, form, ts, method, path, body) => {
          const secret = form(Buffer.from(bytes));
          const p = payload({ timestamp: String(ts), method, path, body });
          const ours = await signPolymarketL2(p, hmacKey(secret));
          expect(ours.signature).toBe(await clobSignature(secret, p));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("cross-check (c): orders built by clob-client's OrderBuilder bind to their own target, and sign alike", async () => {
    const ticks: ReadonlyArray<readonly [TickSize, bigint, number]> = [
      // tick size, its value in 10^-4 units, the number of ticks in 1
      ["0.1", 1000n, 10],
      ["0.01", 100n, 100],
      ["0.005", 50n, 200],
      ["0.001", 10n, 1000],
      ["0.0025", 25n, 400],
      ["0.0001", 1n, 10_000],
    ];
    const builder = new OrderBuilder(FAKE_SIGNER, Chain.POLYGON);
    const secret = randomBytes(32).toString("base64url");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ticks),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.constantFrom(Side.BUY, Side.SELL),
        fc.constantFrom(1, 2),
        async ([tickSize, tickUnits, count], at, cents, side, version) => {
          const k = BigInt(1 + Math.floor(at * (count - 2)));
          const price = formatDecimal((k * tickUnits * 10n ** 14n) as Decimal);
          const size = formatDecimal((BigInt(cents) * 10n ** 16n) as Decimal);
          const userOrder = { tokenID: TOKEN, price: Number(price), size: Number(size), side };
          const signed = await builder.buildOrder(userOrder, { tickSize, negRisk: false }, version);
          const json =
            version === 1
              ? orderToJsonV1(signed as never, "api-key-uuid", OrderType.GTC)
              : orderToJsonV2(signed as never, "api-key-uuid", OrderType.GTC);
          const p = payload({ body: JSON.stringify(json) });
          const target = { venue: "polymarket", action: "order", token_id: TOKEN, side, qty: size, price };
          const outcome = bindPolymarketL2(p, target);
          expect(outcome, `${side} ${size} @ ${price} (tick ${tickSize}, v${version})`).toEqual({
            ok: true,
            effect: { ...ORDER_EFFECT, order: { qty: dec(size), price: dec(price), unitCap: dec("1") } },
          });
          const ours = await signPolymarketL2(p, hmacKey(secret));
          expect(ours.signature).toBe(await clobSignature(secret, p));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each<[string, string | Buffer]>([
    ["empty", ""],
    ["a character outside the alphabet", "abc$defg"],
    ["white space", "YWJj ZGVm"],
    ["a trailing newline", "YWJjZGVm\n"],
    ["a length of 4n+1", "YWJjZ"],
    ["padding on a short group", "YWJjZA="],
    ["three padding characters", "YW==="],
    ["non-ASCII bytes", Buffer.from([0xc3, 0xa9, 0x41, 0x41])],
  ])(
    "a stored secret that is not base64 (%s) is a KeyStoreError, never a signature",
    async (_name, secret) => {
      await expect(signPolymarketL2(payload(), hmacKey(secret))).rejects.toBeInstanceOf(KeyStoreError);
    },
  );

  it("canary: the secret never appears in errors, inspect output or JSON", async () => {
    const canary = "CANARY$polymarket$secret";
    const key = hmacKey(canary);
    expect(inspect(key, { depth: 5 })).not.toContain(canary);
    expect(JSON.stringify(key)).not.toContain(canary);
    const failures: unknown[] = [];
    await signPolymarketL2(payload(), key).catch((e: unknown) => failures.push(e));
    await signPolymarketL2(payload({ body: 5 as never }), key).catch((e: unknown) => failures.push(e));
    const secp: RevealedKey = {
      kind: "secp256k1",
      privateKey: new SecretBytes(Buffer.from(canary)),
      address: "0x0",
    };
    await signPolymarketL2(payload(), secp).catch((e: unknown) => failures.push(e));
    expect(failures).toHaveLength(3);
    for (const failure of failures) {
      expect(inspect(failure, { depth: 5 })).not.toContain(canary);
      expect(String(failure)).not.toContain(canary);
      expect(JSON.stringify(failure)).not.toContain(canary);
    }
    const b64Canary = Buffer.from(canary).toString("base64");
    const out = await signPolymarketL2(payload(), hmacKey(b64Canary));
    expect(inspect(out)).not.toContain(b64Canary);
    expect(inspect(out)).not.toContain(canary);
  });
});

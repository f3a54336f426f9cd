import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SecretBytes } from "../../core/auth/secretBytes.js";
import { type Decimal, parseDecimal } from "../../core/decimal.js";
import { parseAddress, toChecksumAddress } from "../../core/evm/address.js";
import { addressOfPublicKey, recoverAddress, SECP256K1_HALF_N, SECP256K1_N } from "../../core/evm/ecdsa.js";
import { CTF_ORDER_VERSIONS } from "../../core/polymarket/ctfOrder.js";
import type { SignPayload } from "../../ports/signingPlane.js";
import { KeyStoreError, type RevealedKey } from "../keyStore.js";
import type { BindOutcome } from "../payloadKind.js";
import {
  bindPolymarketOrder,
  createPolymarketOrderHandler,
  decodePolymarketOrder,
  PayloadKeyMismatch,
  polymarketOrderDigest,
  polymarketOrderHandler,
  signPolymarketOrder,
} from "./polymarketOrder.js";

type Target = Record<string, unknown>;
type OrderPayload = Extract<SignPayload, { kind: "eip712-order" }>;

const TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563";
/** A canary key: its hex must never show up anywhere but in the key itself. */
const CANARY_HEX = "c0ffee00deadbeefc0ffee00deadbeefc0ffee00deadbeefc0ffee00deadbeef";
const CANARY = Buffer.from(CANARY_HEX, "hex");
const CANARY_ADDRESS = toChecksumAddress(addressOfPublicKey(secp256k1.getPublicKey(CANARY, false)));
const OTHER = "0x1111111111111111111111111111111111111111";
const ZERO_ADDRESS = `0x${"00".repeat(20)}`;
const ZERO32 = `0x${"00".repeat(32)}`;
const MAINNET = new Set(["137"]);

const EXCHANGE = {
  "1": {
    standard: "0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E",
    negRisk: "0xC5d563A36AE78145C45a50134d48A1215220f80a",
  },
  "2": {
    standard: "0xE111180000d2663C0091e4f400237545B87B996B",
    negRisk: "0xe2222d279d744050d28e00520010520000310F59",
  },
} as const;

const key = (privateKey: Buffer = CANARY, address: string = CANARY_ADDRESS): RevealedKey => ({
  kind: "secp256k1",
  privateKey: new SecretBytes(privateKey),
  address,
});
const field = (outcome: BindOutcome): string => (outcome.ok ? "ok" : outcome.field);
const dec = (text: string): Decimal => parseDecimal(text)!;

/** A V2 BUY of 10 shares at 0.57 (5.7 USDC) by the canary key. */
function v2(order: Record<string, unknown> = {}, domain: Record<string, unknown> = {}): OrderPayload {
  return {
    kind: "eip712-order",
    domain: {
      name: "Polymarket CTF Exchange",
      version: "2",
      chainId: "137",
      verifyingContract: EXCHANGE["2"].standard,
      ...domain,
    },
    order: {
      salt: "123456789",
      maker: CANARY_ADDRESS,
      signer: CANARY_ADDRESS,
      tokenId: TOKEN,
      makerAmount: "5700000",
      takerAmount: "10000000",
      side: "0",
      signatureType: "0",
      timestamp: "1777000000000",
      metadata: ZERO32,
      builder: ZERO32,
      ...order,
    },
  };
}

/** The same order as V1. */
function v1(order: Record<string, unknown> = {}, domain: Record<string, unknown> = {}): OrderPayload {
  const base = v2();
  const { timestamp: _, metadata: __, builder: ___, ...common } = base.order;
  return {
    kind: "eip712-order",
    domain: { ...base.domain, version: "1", verifyingContract: EXCHANGE["1"].standard, ...domain },
    order: { ...common, taker: ZERO_ADDRESS, expiration: "0", nonce: "0", feeRateBps: "0", ...order },
  };
}

const TARGET: Target = { venue: "polymarket", token_id: TOKEN, side: "BUY", qty: "10", price: "0.57" };
const without = (record: Record<string, unknown>, name: string): Record<string, unknown> => {
  const { [name]: _, ...rest } = record;
  return rest;
};

describe("eip712-order bind", () => {
  it.each([
    ["V1", v1],
    ["V2", v2],
  ])(
    "accepts the matching %s order; the effect is its shares, its price and the 1 USDC cap, exact",
    (_, make) => {
      expect(bindPolymarketOrder(make(), TARGET)).toEqual({
        ok: true,
        effect: {
          venue: "polymarket",
          action: "order",
          symbol: TOKEN,
          order: { qty: dec("10"), price: dec("0.57"), unitCap: dec("1") },
          replayableRead: false,
        },
      });
      expect(polymarketOrderHandler.bind(make(), TARGET)).toEqual(bindPolymarketOrder(make(), TARGET));
    },
  );

  it("reads a SELL as makerAmount shares for takerAmount USDC", () => {
    const sell = v2({ side: "1", makerAmount: "10000000", takerAmount: "5700000" });
    expect(bindPolymarketOrder(sell, { ...TARGET, side: "SELL" })).toEqual({
      ok: true,
      effect: {
        venue: "polymarket",
        action: "order",
        symbol: TOKEN,
        order: { qty: dec("10"), price: dec("0.57"), unitCap: dec("1") },
        replayableRead: false,
      },
    });
  });

  it("a target action other than order → payload_mismatch:action", () => {
    expect(bindPolymarketOrder(v2(), { ...TARGET, action: "cancel" })).toEqual({
      ok: false,
      field: "action",
    });
    expect(field(bindPolymarketOrder(v2(), { ...TARGET, action: "order" }))).toBe("ok");
  });

  it.each(["1", "2"] as const)(
    "V%s on the neg-risk exchange needs target.neg_risk true, and the reverse",
    (v) => {
      const make = v === "1" ? v1 : v2;
      const negRisk = make({}, { verifyingContract: EXCHANGE[v].negRisk });
      expect(field(bindPolymarketOrder(negRisk, { ...TARGET, neg_risk: true }))).toBe("ok");
      expect(field(bindPolymarketOrder(negRisk, TARGET))).toBe("verifying_contract");
      expect(field(bindPolymarketOrder(negRisk, { ...TARGET, neg_risk: false }))).toBe("verifying_contract");
      expect(field(bindPolymarketOrder(make(), { ...TARGET, neg_risk: true }))).toBe("verifying_contract");
      expect(field(bindPolymarketOrder(make(), { ...TARGET, neg_risk: false }))).toBe("ok");
    },
  );

  it("takes the token from target.symbol when there is no token_id, and needs no price", () => {
    expect(
      field(bindPolymarketOrder(v2(), { ...without(TARGET, "token_id"), symbol: TOKEN, price: undefined })),
    ).toBe("ok");
  });

  it("accepts proxy and safe orders (maker is the wallet, signer the key), not POLY_1271", () => {
    expect(field(bindPolymarketOrder(v2({ signatureType: "1", maker: OTHER }), TARGET))).toBe("ok");
    expect(field(bindPolymarketOrder(v2({ signatureType: "2", maker: OTHER }), TARGET))).toBe("ok");
    expect(field(bindPolymarketOrder(v1({ signatureType: "2", maker: OTHER }), TARGET))).toBe("ok");
    expect(field(bindPolymarketOrder(v2({ signatureType: "3" }), TARGET))).toBe("signature_type");
    expect(field(bindPolymarketOrder(v1({ signatureType: "3" }), TARGET))).toBe("signature_type");
  });

  it("accepts lowercase and EIP-55 addresses; a bad checksum is malformed", () => {
    const lower = CANARY_ADDRESS.toLowerCase();
    expect(field(bindPolymarketOrder(v2({ maker: lower, signer: lower }), TARGET))).toBe("ok");
    expect(
      field(bindPolymarketOrder(v2({}, { verifyingContract: EXCHANGE["2"].standard.toLowerCase() }), TARGET)),
    ).toBe("ok");
    const flipped = `0x${[...CANARY_ADDRESS.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("")}`;
    expect(field(bindPolymarketOrder(v2({ signer: flipped }), TARGET))).toBe("signer");
  });

  it("Amoy (80002) only through a handler built for it", () => {
    const amoy = v1(
      {},
      { chainId: "80002", verifyingContract: "0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40" },
    );
    expect(field(polymarketOrderHandler.bind(amoy, TARGET))).toBe("chain_id");
    const testnet = createPolymarketOrderHandler({ chainIds: [137n, 80002n] });
    expect(field(testnet.bind(amoy, TARGET))).toBe("ok");
    // The Amoy V1 exchange is not the mainnet one.
    expect(
      field(
        testnet.bind(v1({}, { verifyingContract: "0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40" }), TARGET),
      ),
    ).toBe("verifying_contract");
  });

  const v2Keys = Object.keys(v2().order);
  const cases: Array<[string, OrderPayload, Target, string]> = [
    // payload shape
    ["kind", { ...v2(), kind: "hmac-query" } as unknown as OrderPayload, TARGET, "kind"],
    ["domain not an object", { ...v2(), domain: [] } as unknown as OrderPayload, TARGET, "domain"],
    ["domain with an extra field", v2({}, { salt: ZERO32 }), TARGET, "domain"],
    ["domain without a name", { ...v2(), domain: without(v2().domain, "name") }, TARGET, "domain"],
    ["domain name differs", v2({}, { name: "Polymarket CTF Exchange " }), TARGET, "domain"],
    ["domain version 3 (not in the table)", v2({}, { version: "3" }), TARGET, "version"],
    ["domain version as a number", v2({}, { version: 2 }), TARGET, "version"],
    ["domain version a prototype name", v2({}, { version: "toString" }), TARGET, "version"],
    ["chain id 1", v2({}, { chainId: "1" }), TARGET, "chain_id"],
    ["chain id as a number", v2({}, { chainId: 137 }), TARGET, "chain_id"],
    ["chain id with a leading zero", v2({}, { chainId: "0137" }), TARGET, "chain_id"],
    ["chain id Amoy on the mainnet handler", v2({}, { chainId: "80002" }), TARGET, "chain_id"],
    ["verifying contract elsewhere", v2({}, { verifyingContract: OTHER }), TARGET, "verifying_contract"],
    [
      "V1 exchange under version 2",
      v2({}, { verifyingContract: EXCHANGE["1"].standard }),
      TARGET,
      "verifying_contract",
    ],
    [
      "V2 exchange under version 1",
      v1({}, { verifyingContract: EXCHANGE["2"].standard }),
      TARGET,
      "verifying_contract",
    ],
    [
      "V3 exchange under version 2",
      v2({}, { verifyingContract: "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa" }),
      TARGET,
      "verifying_contract",
    ],
    ["verifying contract malformed", v2({}, { verifyingContract: "0x1234" }), TARGET, "verifying_contract"],
    ["order not an object", { ...v2(), order: "x" } as unknown as OrderPayload, TARGET, "order"],
    ["order with an unknown field", v2({ signature: `0x${"11".repeat(65)}` }), TARGET, "order"],
    ["V2 order with V2's unsigned expiration", v2({ expiration: "0" }), TARGET, "order"],
    ["V2 order with V1's fields", v2({ taker: ZERO_ADDRESS, nonce: "0", feeRateBps: "0" }), TARGET, "order"],
    ["V1 order under version 2", { ...v1(), domain: v2().domain }, TARGET, "order"],
    ...v2Keys.map((name): [string, OrderPayload, Target, string] => [
      `order without ${name}`,
      { ...v2(), order: without(v2().order, name) },
      TARGET,
      "order",
    ]),
    ["order without taker (V1)", { ...v1(), order: without(v1().order, "taker") }, TARGET, "order"],
    // order member values
    ["salt as a number", v2({ salt: 123456789 }), TARGET, "salt"],
    ["salt above uint256", v2({ salt: (1n << 256n).toString() }), TARGET, "salt"],
    ["maker malformed", v2({ maker: "0x12" }), TARGET, "maker"],
    ["maker zero", v2({ maker: ZERO_ADDRESS, signatureType: "1" }), TARGET, "maker"],
    ["EOA maker is not the signer", v2({ maker: OTHER }), TARGET, "maker"],
    ["signer zero", v2({ signer: ZERO_ADDRESS, signatureType: "1" }), TARGET, "signer"],
    ["signer without 0x", v2({ signer: CANARY_ADDRESS.slice(2) }), TARGET, "signer"],
    ["V1 taker not public", v1({ taker: OTHER }), TARGET, "taker"],
    ["token with a leading zero", v2({ tokenId: `0${TOKEN}` }), TARGET, "token_id"],
    ["token in hex", v2({ tokenId: "0x01" }), TARGET, "token_id"],
    [
      "token above uint256",
      v2({ tokenId: "9".repeat(78) }),
      { ...TARGET, token_id: "9".repeat(78) },
      "token_id",
    ],
    ["maker amount zero", v2({ makerAmount: "0" }), TARGET, "amounts"],
    ["taker amount zero", v2({ takerAmount: "0" }), TARGET, "amounts"],
    ["maker amount negative", v2({ makerAmount: "-5700000" }), TARGET, "amounts"],
    ["taker amount fractional", v2({ takerAmount: "10000000.0" }), TARGET, "amounts"],
    ["side 2", v2({ side: "2" }), TARGET, "side"],
    ["side as BUY", v2({ side: "BUY" }), TARGET, "side"],
    ["side as a number", v2({ side: 0 }), TARGET, "side"],
    ["side above uint8", v2({ side: "256" }), TARGET, "side"],
    ["signature type 4", v2({ signatureType: "4" }), TARGET, "signature_type"],
    ["signature type as a number", v2({ signatureType: 0 }), TARGET, "signature_type"],
    ["timestamp negative", v2({ timestamp: "-1" }), TARGET, "timestamp"],
    ["metadata short", v2({ metadata: "0x00" }), TARGET, "metadata"],
    ["builder without 0x", v2({ builder: "00".repeat(32) }), TARGET, "builder"],
    ["V1 expiration malformed", v1({ expiration: "soon" }), TARGET, "expiration"],
    ["V1 nonce malformed", v1({ nonce: "" }), TARGET, "nonce"],
    ["V1 fee rate malformed", v1({ feeRateBps: "1e3" }), TARGET, "fee_rate_bps"],
    // order against target
    ["target not an object", v2(), null as unknown as Target, "target"],
    ["venue differs", v2(), { ...TARGET, venue: "binance" }, "venue"],
    ["token differs", v2({ tokenId: "1" }), TARGET, "token_id"],
    ["target without a token", v2(), without(TARGET, "token_id"), "token_id"],
    ["target token malformed", v2(), { ...TARGET, token_id: "0x01" }, "token_id"],
    ["target token a number", v2(), { ...TARGET, token_id: 1 }, "token_id"],
    ["side differs", v2({ side: "1" }), TARGET, "side"],
    ["target side missing", v2(), without(TARGET, "side"), "side"],
    ["target side lowercase", v2(), { ...TARGET, side: "buy" }, "side"],
    ["more shares", v2({ takerAmount: "10000001" }), TARGET, "qty"],
    ["fewer shares", v2({ takerAmount: "9999999" }), TARGET, "qty"],
    ["SELL with shares and USDC swapped", v2({ side: "1" }), { ...TARGET, side: "SELL" }, "qty"],
    ["target qty missing", v2(), without(TARGET, "qty"), "qty"],
    ["target qty zero", v2(), { ...TARGET, qty: "0" }, "qty"],
    ["target qty malformed", v2(), { ...TARGET, qty: "1e1" }, "qty"],
    ["one micro-USDC more", v2({ makerAmount: "5700001" }), TARGET, "price"],
    ["one micro-USDC less", v2({ makerAmount: "5699999" }), TARGET, "price"],
    ["target price malformed", v2(), { ...TARGET, price: "0.57.1" }, "price"],
    ["target price zero", v2(), { ...TARGET, price: "0" }, "price"],
    ["target neg_risk not a boolean", v2(), { ...TARGET, neg_risk: "true" }, "neg_risk"],
    ["target maker differs", v2(), { ...TARGET, maker: OTHER }, "maker"],
    ["target maker malformed", v2(), { ...TARGET, maker: "me" }, "maker"],
  ];
  it.each(cases.map(([name, payload, target, expected]) => [name, expected, payload, target] as const))(
    "%s → payload_mismatch:%s",
    (_, expected, payload, target) => {
      expect(field(bindPolymarketOrder(payload, target))).toBe(expected);
    },
  );

  it("the checks above cover every V1 and V2 member", () => {
    expect(Object.keys(v2().order).sort()).toEqual(CTF_ORDER_VERSIONS["2"].struct.map((f) => f.name).sort());
    expect(Object.keys(v1().order).sort()).toEqual(CTF_ORDER_VERSIONS["1"].struct.map((f) => f.name).sort());
  });

  it("price checks are exact: 3 shares at 1/3 never match", () => {
    const order = v2({ makerAmount: "1000000", takerAmount: "3000000" });
    expect(field(bindPolymarketOrder(order, { ...TARGET, qty: "3", price: "0.333333" }))).toBe("price");
    expect(field(bindPolymarketOrder(order, { ...TARGET, qty: "3", price: "0.333333333333333333" }))).toBe(
      "price",
    );
    expect(field(bindPolymarketOrder(order, { ...without(TARGET, "price"), qty: "3" }))).toBe("ok");
  });

  it("ignores inherited target fields", () => {
    const target = Object.create({ neg_risk: true, maker: OTHER }) as Target;
    Object.assign(target, TARGET);
    expect(field(bindPolymarketOrder(v2(), target))).toBe("ok");
  });

  it("never throws, whatever the payload and target", () => {
    const member = fc.oneof(
      fc.anything(),
      fc.constantFrom("0", "1", "2", TOKEN, CANARY_ADDRESS, ZERO32, "137", "Polymarket CTF Exchange"),
    );
    const payloadArb = fc.oneof(
      fc.anything(),
      fc.record({
        kind: fc.constant("eip712-order"),
        domain: fc.oneof(fc.anything(), fc.dictionary(fc.string(), member), fc.constant(v2().domain)),
        order: fc.oneof(fc.anything(), fc.dictionary(fc.string(), member), fc.constant(v2().order)),
      }),
      // one member of a valid order replaced by anything
      fc
        .tuple(fc.constantFrom(...v2Keys, ...Object.keys(v2().domain)), fc.anything(), fc.boolean())
        .map(([name, value, inDomain]) => (inDomain ? v2({}, { [name]: value }) : v2({ [name]: value }))),
    );
    fc.assert(
      fc.property(payloadArb, fc.oneof(fc.anything(), fc.constant(TARGET)), (payload, target) => {
        const outcome = bindPolymarketOrder(payload as OrderPayload, target as Target);
        expect(typeof outcome.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("eip712-order sign", () => {
  it("signs 65 bytes (v 27/28) that recover to the key, and names the signer", async () => {
    for (const payload of [v1(), v2(), v2({ side: "1", makerAmount: "10000000", takerAmount: "5700000" })]) {
      const out = await signPolymarketOrder(payload, key());
      expect(out.signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
      expect(out.signer_address).toBe(CANARY_ADDRESS);
      const decoded = decodePolymarketOrder(payload, MAINNET);
      if (!decoded.ok) throw new Error("decode");
      const digest = polymarketOrderDigest(decoded.order);
      const r = BigInt(`0x${out.signature.slice(2, 66)}`);
      const s = BigInt(`0x${out.signature.slice(66, 130)}`);
      const recovery = Number.parseInt(out.signature.slice(130), 16) === 27 ? 0 : 1;
      expect(recoverAddress(digest, { r, s, recovery })).toBe(BigInt(CANARY_ADDRESS));
    }
  });

  it("is deterministic (RFC 6979) and distinct per version, chain and exchange", async () => {
    const sigs = await Promise.all(
      [
        v2(),
        v2(),
        v1(),
        v2({}, { verifyingContract: EXCHANGE["2"].negRisk }),
        v1({}, { verifyingContract: EXCHANGE["1"].negRisk }),
      ].map(async (p) => (await signPolymarketOrder(p, key())).signature),
    );
    expect(sigs[0]).toBe(sigs[1]);
    expect(new Set(sigs).size).toBe(4);
  });

  it("refuses a non-secp256k1 key with KeyStoreError wrong_kind", async () => {
    const hmac: RevealedKey = { kind: "hmac", secret: new SecretBytes(CANARY) };
    await expect(signPolymarketOrder(v2(), hmac)).rejects.toMatchObject({
      name: "KeyStoreError",
      code: "wrong_kind",
    });
  });

  it("refuses an order whose signer is not the key's address: PayloadKeyMismatch on signer", async () => {
    const proxy = v2({ signatureType: "1", maker: CANARY_ADDRESS, signer: OTHER });
    const error = await signPolymarketOrder(proxy, key()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadKeyMismatch);
    expect(error).toMatchObject({ name: "PayloadKeyMismatch", field: "signer" });
    // The key's address in another case is the same address.
    await expect(signPolymarketOrder(v2(), key(CANARY, CANARY_ADDRESS.toLowerCase()))).resolves.toMatchObject(
      {
        signer_address: CANARY_ADDRESS,
      },
    );
  });

  it("refuses a key whose stored address is not its own (recovery check)", async () => {
    const wrong = Buffer.alloc(32, 7);
    await expect(signPolymarketOrder(v2(), key(wrong))).rejects.toMatchObject({
      name: "KeyStoreError",
      code: "corrupted",
    });
  });

  it.each([
    ["all zero", Buffer.alloc(32)],
    ["n", Buffer.from(SECP256K1_N.toString(16), "hex")],
    ["31 bytes", CANARY.subarray(1)],
    ["33 bytes", Buffer.concat([CANARY, Buffer.of(1)])],
  ])("refuses a malformed secret key (%s) as corrupted", async (_, bad) => {
    await expect(signPolymarketOrder(v2(), key(bad))).rejects.toMatchObject({ code: "corrupted" });
  });

  it("refuses a malformed stored address as corrupted, and a payload that does not decode", async () => {
    await expect(signPolymarketOrder(v2(), key(CANARY, "me"))).rejects.toMatchObject({ code: "corrupted" });
    await expect(signPolymarketOrder(v2({}, { chainId: "1" }), key())).rejects.toThrow(TypeError);
    await expect(signPolymarketOrder(v2({ extra: "1" }), key())).rejects.toThrow(/payload_mismatch:order/);
  });

  it("low-S always, over many random keys and orders; the high-S twin would verify but is never produced", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
        fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
        fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
        fc.constantFrom("1", "2"),
        async (secret, salt, amount, version) => {
          const address = toChecksumAddress(addressOfPublicKey(secp256k1.getPublicKey(secret, false)));
          const make = version === "1" ? v1 : v2;
          const payload = make({
            salt: salt.toString(),
            maker: address,
            signer: address,
            makerAmount: amount.toString(),
          });
          const out = await signPolymarketOrder(payload, key(Buffer.from(secret), address));
          const s = BigInt(`0x${out.signature.slice(66, 130)}`);
          const r = BigInt(`0x${out.signature.slice(2, 66)}`);
          const v = Number.parseInt(out.signature.slice(130), 16);
          expect(s > 0n && s <= SECP256K1_HALF_N).toBe(true);
          expect([27, 28]).toContain(v);
          expect(out.signer_address).toBe(address);
          const decoded = decodePolymarketOrder(payload, MAINNET);
          if (!decoded.ok) throw new Error("decode");
          const digest = polymarketOrderDigest(decoded.order);
          // (r, n - s, flipped v) is the malleable twin: it recovers to the same key, and is high-S.
          expect(recoverAddress(digest, { r, s: SECP256K1_N - s, recovery: v === 27 ? 1 : 0 })).toBe(
            BigInt(address),
          );
          expect(SECP256K1_N - s > SECP256K1_HALF_N).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("eip712-order: the private key never leaks", () => {
  const leaks = (text: string): boolean => text.toLowerCase().includes(CANARY_HEX);

  it("not in inspect or JSON of the key", () => {
    const k = key();
    expect(leaks(inspect(k, { depth: 10, showHidden: true }))).toBe(false);
    expect(leaks(JSON.stringify(k))).toBe(false);
    expect(leaks(String(k.kind === "secp256k1" ? k.privateKey : ""))).toBe(false);
  });

  it("not in any outcome or error", async () => {
    const texts: string[] = [];
    const collect = (value: unknown): void => {
      texts.push(
        inspect(value, { depth: 10, showHidden: true }),
        JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v)) ?? "",
      );
      if (value instanceof Error) texts.push(value.message, value.stack ?? "", String(value.cause ?? ""));
    };
    collect(await signPolymarketOrder(v2(), key()));
    collect(bindPolymarketOrder(v2(), TARGET));
    const failures: Array<[OrderPayload, RevealedKey]> = [
      [v2({ signer: OTHER, signatureType: "1" }), key()],
      [v2(), key(Buffer.alloc(32, 7))],
      [v2(), key(CANARY, "0x")],
      [v2({ extra: CANARY_HEX }), key()],
      [v2(), { kind: "hmac", secret: new SecretBytes(CANARY) }],
      [v2(), key(Buffer.concat([CANARY, CANARY]))],
      [v2(), key(Buffer.from(`${"ff".repeat(31)}fe`, "hex"))],
    ];
    for (const [payload, k] of failures) {
      const error = await signPolymarketOrder(payload, k).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      collect(error);
    }
    expect(texts.filter(leaks)).toEqual([]);
    expect(new KeyStoreError("corrupted", "x")).toBeInstanceOf(Error); // the class the plane maps
  });
});

describe("eip712 address helpers", () => {
  it("EIP-55 test vectors", () => {
    for (const a of [
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ]) {
      expect(toChecksumAddress(a.toLowerCase())).toBe(a);
      expect(parseAddress(a)).toBe(BigInt(a));
    }
    expect(parseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")).toBeUndefined();
  });

  it("every table address is EIP-55 valid", () => {
    for (const row of Object.values(CTF_ORDER_VERSIONS)) {
      for (const pair of Object.values(row.exchanges)) {
        expect(toChecksumAddress(pair.standard)).toBe(pair.standard);
        expect(toChecksumAddress(pair.negRisk)).toBe(pair.negRisk);
      }
    }
  });
});
